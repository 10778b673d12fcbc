package io.odinws.protocol;

import org.junit.jupiter.api.Test;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Seeded fuzzing of {@link ClientRequest#parse} (PROTOCOL.md section 3): whatever text a client sends, parsing
 * returns a request or a documented error and never throws. Every case is reproducible from the seed and the case
 * number printed in a failure message.
 */
class ClientRequestFuzzTest {

  private static final long SEED = 0x0D1_5EEDL;
  private static final Set<String> ERROR_CODES = Set.of("INVALID_MESSAGE", "UNKNOWN_TYPE");

  /** The examples of PROTOCOL.md section 3 (plus the ext subscribe with last_offset), with the type each parses to. */
  private static final Map<String, Class<? extends ClientRequest>> VALID = new LinkedHashMap<>();

  static {
    VALID.put("{\"type\":\"subscribe\",\"data\":{\"channels\":[\"BTC.trade\",\"ETH.trade\"]}}", ClientRequest.Subscribe.class);
    VALID.put("{\"type\":\"unsubscribe\",\"data\":{\"channels\":[\"BTC.trade\"]}}", ClientRequest.Unsubscribe.class);
    VALID.put("{\"type\":\"heartbeat\"}", ClientRequest.Heartbeat.class);
    VALID.put("{\"type\":\"auth\",\"data\":{\"token\":\"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln\"}}", ClientRequest.Auth.class);
    VALID.put("{\"type\":\"reconnect\",\"data\":{\"client_id\":\"c-17\",\"last_offset\":{\"BTC.trade\":\"3:1042\"}}}",
        ClientRequest.Reconnect.class);
    VALID.put("{\"type\":\"subscribe\",\"data\":{\"channels\":[\"BTC.trade\"],\"last_offset\":{\"BTC.trade\":\"3:1042\"}}}",
        ClientRequest.Subscribe.class);
    VALID.put("{\"type\":\"reconnect\",\"data\":{\"client_id\":\"c-17\",\"last_offset\":{\"BTC.trade\":1042,\"ETH.trade\":\"0:7\"}}}",
        ClientRequest.Reconnect.class);
  }

  private static final String JSONISH = "{}[]\":,\\ tfnul0123456789.-+eE";
  private static final String[] TOKENS = {
      "{", "}", "[", "]", ":", ",", "\"", "\\", "null", "true", "false", "0", "-0", "1e999", "-1e-999", "1.5", "NaN",
      "\"type\"", "\"data\"", "\"channels\"", "\"last_offset\"", "\"client_id\"", "\"subscribe\"", "\"unsubscribe\"",
      "\"heartbeat\"", "\"reconnect\"", "\"auth\"", "\"token\"", "\"BTC.trade\"", "\\u0000", "\\ud800", "\\udfff", "\\uZZZZ", "\\", "/*", "*/", "//",
      "\uFEFF", "\u2028", "\uD83D\uDE00", "99999999999999999999999999999999"};

  // ---- (a) random strings -----------------------------------------------------------------

  @Test
  void randomStringsNeverThrow() {
    Random r = new Random(SEED);
    int[] kinds = new int[6];
    for (int i = 0; i < 20_000; i++) {
      String text = randomString(r, r.nextInt(4) == 0 ? 2048 : 64, i % 3 == 0);
      ClientRequest req = check(text, "random string #" + i);
      kinds[kind(req)]++;
    }
    System.out.println("ClientRequestFuzzTest random strings (seed " + SEED + "): " + histogram(kinds));
  }

  /** Random JSON documents shaped like requests, checked against the message shapes of PROTOCOL.md section 3. */
  @Test
  void randomJsonDocumentsParseAsTheProtocolSays() {
    Random r = new Random(SEED + 1);
    int[] kinds = new int[6];
    for (int i = 0; i < 20_000; i++) {
      Object doc = randomRequestTree(r);
      String text = toJson(doc, r);
      String where = "random JSON #" + i + " (seed " + (SEED + 1) + "): " + abbreviate(text);
      ClientRequest req = check(text, where);
      kinds[kind(req)]++;
      Expected expected = expected(doc);
      if (expected.type == ClientRequest.Invalid.class) {
        ClientRequest.Invalid invalid = assertInstanceOf(ClientRequest.Invalid.class, req, where);
        assertEquals(expected.code, invalid.error().code(), where);
      } else {
        assertInstanceOf(expected.type, req, where);
      }
      if (req instanceof ClientRequest.Subscribe s) {
        assertEquals(expected.channels, s.channels(), where);
      } else if (req instanceof ClientRequest.Unsubscribe u) {
        assertEquals(expected.channels, u.channels(), where);
      } else if (req instanceof ClientRequest.Reconnect rc) {
        assertEquals(expected.clientId, rc.clientId(), where);
        assertEquals(expected.offsetKeys, List.copyOf(rc.lastOffset().keySet()), where);
      }
    }
    System.out.println("ClientRequestFuzzTest random JSON (seed " + (SEED + 1) + "): " + histogram(kinds));
  }

  // ---- (b) mutations of valid messages -----------------------------------------------------

  @Test
  void validOriginalsParseToTheirType() {
    VALID.forEach((text, type) -> {
      ClientRequest req = check(text, "original " + text);
      assertInstanceOf(type, req, text);
    });
    ClientRequest.Subscribe s = (ClientRequest.Subscribe) ClientRequest.parse(VALID.keySet().iterator().next());
    assertEquals(List.of("BTC.trade", "ETH.trade"), s.channels());
    ClientRequest.Reconnect rc = (ClientRequest.Reconnect) ClientRequest.parse(
        "{\"type\":\"reconnect\",\"data\":{\"client_id\":\"c-17\",\"last_offset\":{\"BTC.trade\":\"3:1042\"}}}");
    assertEquals("c-17", rc.clientId());
    assertEquals(Map.of("BTC.trade", "3:1042"), rc.lastOffset());
  }

  @Test
  void characterMutationsOfValidMessagesNeverThrow() {
    Random r = new Random(SEED + 2);
    List<String> originals = List.copyOf(VALID.keySet());
    int[] kinds = new int[6];
    for (int i = 0; i < 20_000; i++) {
      String original = originals.get(r.nextInt(originals.size()));
      StringBuilder sb = new StringBuilder(original);
      int mutations = 1 + r.nextInt(r.nextBoolean() ? 3 : 12);
      for (int m = 0; m < mutations; m++) {
        int op = r.nextInt(5);
        int pos = sb.isEmpty() ? 0 : r.nextInt(sb.length());
        switch (op) {
          case 0 -> { // flip a character
            if (!sb.isEmpty()) {
              sb.setCharAt(pos, randomChar(r));
            }
          }
          case 1 -> sb.insert(pos, randomChar(r));
          case 2 -> {
            if (!sb.isEmpty()) {
              sb.deleteCharAt(pos);
            }
          }
          case 3 -> sb.insert(pos, TOKENS[r.nextInt(TOKENS.length)]);
          default -> { // flip one bit of a character
            if (!sb.isEmpty()) {
              sb.setCharAt(pos, (char) (sb.charAt(pos) ^ (1 << r.nextInt(16))));
            }
          }
        }
      }
      ClientRequest req = check(sb.toString(), "character mutation #" + i + " (seed " + (SEED + 2) + ")");
      kinds[kind(req)]++;
    }
    System.out.println("ClientRequestFuzzTest character mutations (seed " + (SEED + 2) + "): " + histogram(kinds));
  }

  /** Every value position of every example replaced by null/true/false and by values of every other type. */
  @Test
  void everyValuePositionWithEveryTypeNeverThrows() {
    Random r = new Random(SEED + 3);
    List<Object> replacements = new ArrayList<>(List.of(
        Literal.NULL, Boolean.TRUE, Boolean.FALSE, 0L, -1L, Long.MAX_VALUE, Long.MIN_VALUE, 1.5, -0.0, 1e308,
        new BigInteger("9".repeat(400)), new BigInteger("-" + "9".repeat(999)), new Raw("1e999999999"), new Raw("-1E-999999999"),
        new Raw("0." + "0".repeat(900) + "1"), new Raw("1" + "0".repeat(1500)), "", "x", "subscribe", "\u0000", "\ud800",
        "\uD83D\uDE00", "a".repeat(5000), new ArrayList<>(), new ArrayList<>(List.of(Literal.NULL)),
        new ArrayList<>(List.of("BTC.trade", 1L, Literal.NULL)), new LinkedHashMap<>(), mapOf("BTC.trade", "3:1042"),
        mapOf("channels", new ArrayList<>(List.of("BTC.trade")))));
    int cases = 0;
    int[] kinds = new int[6];
    for (String original : VALID.keySet()) {
      Object tree = fromJson(original);
      List<List<Object>> paths = new ArrayList<>();
      collectPaths(tree, new ArrayList<>(), paths);
      for (List<Object> path : paths) {
        for (Object replacement : replacements) {
          String text = toJson(replaceAt(tree, path, replacement), null);
          kinds[kind(check(text, "replace " + path + " of " + original + " with " + abbreviate(String.valueOf(replacement))))]++;
          cases++;
        }
        // the same position, as raw text: a literal typed where anything (or nothing) was expected
        String text = toJson(replaceAt(tree, path, new Raw(new String[] {"null", "true", "false", "", "nul", "tru", "[", "{"}[r.nextInt(8)])), null);
        kinds[kind(check(text, "raw literal at " + path + " of " + original))]++;
        cases++;
      }
      // null/true/false inserted at every character offset of the text
      for (int pos = 0; pos <= original.length(); pos++) {
        for (String literal : new String[] {"null", "true", "false"}) {
          String text = original.substring(0, pos) + literal + original.substring(pos);
          kinds[kind(check(text, "'" + literal + "' inserted at " + pos + " of " + original))]++;
          cases++;
        }
      }
    }
    System.out.println("ClientRequestFuzzTest value positions: " + cases + " cases, " + histogram(kinds));
  }

  @Test
  void duplicateKeysNeverThrow() {
    String[] docs = {
        "{\"type\":\"subscribe\",\"type\":\"heartbeat\"}",
        "{\"type\":\"heartbeat\",\"type\":1}",
        "{\"type\":\"heartbeat\",\"type\":null}",
        "{\"type\":\"subscribe\",\"data\":{\"channels\":[\"BTC.trade\"]},\"data\":\"x\"}",
        "{\"type\":\"subscribe\",\"data\":\"x\",\"data\":{\"channels\":[\"BTC.trade\"]}}",
        "{\"type\":\"subscribe\",\"data\":{\"channels\":[\"BTC.trade\"],\"channels\":[1]}}",
        "{\"type\":\"subscribe\",\"data\":{\"channels\":[1],\"channels\":[\"BTC.trade\"]}}",
        "{\"type\":\"reconnect\",\"data\":{\"client_id\":\"a\",\"client_id\":{},\"last_offset\":{\"BTC.trade\":\"1:2\",\"BTC.trade\":[]}}}",
        "{\"type\":\"reconnect\",\"data\":{\"last_offset\":{\"BTC.trade\":[],\"BTC.trade\":3}}}",
        "{\"type\":\"reconnect\",\"data\":{\"last_offset\":1,\"last_offset\":{\"BTC.trade\":3}}}",
        "{\"\":1,\"\":2,\"type\":\"heartbeat\"}",
    };
    StringBuilder observed = new StringBuilder();
    for (String doc : docs) {
      ClientRequest req = check(doc, "duplicate keys " + doc);
      observed.append("\n  ").append(doc).append(" -> ").append(req.getClass().getSimpleName());
    }
    // many duplicates of one key
    StringBuilder many = new StringBuilder("{");
    for (int i = 0; i < 10_000; i++) {
      many.append("\"type\":\"t").append(i).append("\",");
    }
    many.append("\"type\":\"heartbeat\"}");
    observed.append("\n  10,000 duplicate \"type\" keys -> ").append(check(many.toString(), "10,000 duplicate keys").getClass().getSimpleName());
    System.out.println("ClientRequestFuzzTest duplicate keys (last wins in Vert.x/Jackson):" + observed);
  }

  /** Deep nesting in every position; 100,000 levels too. Must not blow the stack (a StackOverflowError fails here). */
  @Test
  void deepNestingNeverThrows() {
    int[] depths = {1, 10, 100, 500, 990, 998, 999, 1000, 1001, 1002, 5_000, 100_000};
    StringBuilder observed = new StringBuilder();
    for (int depth : depths) {
      String arrays = "[".repeat(depth) + "]".repeat(depth);
      String objects = "{\"a\":".repeat(depth) + "1" + "}".repeat(depth);
      Map<String, String> docs = new LinkedHashMap<>();
      docs.put("root arrays", arrays);
      docs.put("root objects", objects);
      docs.put("type", "{\"type\":" + arrays + "}");
      docs.put("data", "{\"type\":\"subscribe\",\"data\":" + objects + "}");
      docs.put("channels", "{\"type\":\"subscribe\",\"data\":{\"channels\":" + arrays + "}}");
      docs.put("channel element", "{\"type\":\"subscribe\",\"data\":{\"channels\":[\"BTC.trade\"," + arrays + "]}}");
      docs.put("ignored field", "{\"type\":\"subscribe\",\"data\":{\"channels\":[\"BTC.trade\"],\"x\":" + arrays + "}}");
      docs.put("last_offset value", "{\"type\":\"reconnect\",\"data\":{\"last_offset\":{\"BTC.trade\":" + objects + "}}}");
      docs.put("subscribe last_offset value", "{\"type\":\"subscribe\",\"data\":{\"channels\":[],\"last_offset\":{\"BTC.trade\":" + arrays + "}}}");
      docs.put("unclosed arrays", "[".repeat(depth));
      docs.put("unclosed objects", "{\"a\":".repeat(depth));
      docs.put("mixed", "{\"type\":\"heartbeat\",\"x\":" + "[{\"a\":".repeat(depth / 2) + "0" + "}]".repeat(depth / 2) + "}");
      observed.append("\n  depth ").append(depth).append(':');
      docs.forEach((where, text) -> {
        ClientRequest req = check(text, "nesting depth " + depth + " in " + where);
        observed.append(' ').append(where).append('=').append(req.getClass().getSimpleName());
      });
      if (depth <= 500) {
        // nesting inside a field the server ignores does not make a valid request invalid
        assertInstanceOf(ClientRequest.Subscribe.class, ClientRequest.parse(docs.get("ignored field")), "depth " + depth);
        assertInstanceOf(ClientRequest.Heartbeat.class, ClientRequest.parse(docs.get("mixed")), "depth " + depth);
      }
    }
    System.out.println("ClientRequestFuzzTest deep nesting:" + observed);
  }

  @Test
  void hugeNumbersNeverThrow() {
    String[] numbers = {"1e999999999", "-1e999999999", "1e-999999999", "9".repeat(999), "9".repeat(1000), "9".repeat(1001),
        "9".repeat(100_000), "-" + "9".repeat(100_000), "0." + "0".repeat(100_000) + "1", "1" + "0".repeat(5000) + "e-5000",
        "123456789012345678901234567890", "-9223372036854775809", "9223372036854775808", "1.7976931348623157E309", "4.9e-325",
        "-0", "0e0", "00", "01", "1.", ".1", "+1", "1e", "0x10", "Infinity", "-Infinity", "NaN"};
    for (String n : numbers) {
      for (String template : new String[] {
          "{\"type\":%s}",
          "{\"type\":\"reconnect\",\"data\":{\"client_id\":%s,\"last_offset\":{\"BTC.trade\":%s}}}",
          "{\"type\":\"subscribe\",\"data\":{\"channels\":[%s]}}",
          "{\"type\":\"subscribe\",\"data\":{\"channels\":[\"BTC.trade\"],\"last_offset\":{\"BTC.trade\":%s}}}",
          "{\"type\":\"heartbeat\",\"data\":{\"n\":%s}}",
          "%s"}) {
        String text = template.replace("%s", n);
        ClientRequest req = check(text, "number " + abbreviate(n) + " in " + template);
        if (template.startsWith("{\"type\":\"reconnect\"") && req instanceof ClientRequest.Reconnect rc) {
          assertInstanceOf(Number.class, rc.lastOffset().get("BTC.trade"), text);
        }
      }
    }
  }

  // ---- the invariants -----------------------------------------------------------------------

  /** Parses; fails with the case description if parse throws (anything, errors included) or breaks an invariant. */
  private static ClientRequest check(String text, String where) {
    ClientRequest req;
    try {
      req = ClientRequest.parse(text);
    } catch (Throwable t) {
      AssertionError e = new AssertionError("ClientRequest.parse threw " + t + " for " + where + " (length " + text.length()
          + "): " + abbreviate(text), t);
      throw e;
    }
    if (req == null) {
      fail("parse returned null for " + where + ": " + abbreviate(text));
    }
    if (req instanceof ClientRequest.Invalid invalid) {
      if (invalid.error() == null || !ERROR_CODES.contains(invalid.error().code())
          || invalid.error().message() == null || invalid.error().message().isEmpty()) {
        fail("undocumented error " + invalid.error() + " for " + where + ": " + abbreviate(text));
      }
    } else if (req instanceof ClientRequest.InvalidReconnect ir) {
      if (ir.message() == null || ir.message().isEmpty()) {
        fail("reconnect_error without a message for " + where + ": " + abbreviate(text));
      }
    } else if (req instanceof ClientRequest.Subscribe s) {
      if (s.channels() == null || s.channels().contains(null)) {
        fail("subscribe with null channels for " + where + ": " + abbreviate(text));
      }
    } else if (req instanceof ClientRequest.Unsubscribe u) {
      if (u.channels() == null || u.channels().contains(null)) {
        fail("unsubscribe with null channels for " + where + ": " + abbreviate(text));
      }
    } else if (req instanceof ClientRequest.Reconnect rc) {
      if (rc.lastOffset() == null || rc.lastOffset().values().stream().anyMatch(v -> !(v instanceof String) && !(v instanceof Number))) {
        fail("reconnect with a bad last_offset for " + where + ": " + abbreviate(text));
      }
    }
    return req;
  }

  private static int kind(ClientRequest req) {
    if (req instanceof ClientRequest.Subscribe) {
      return 0;
    } else if (req instanceof ClientRequest.Unsubscribe) {
      return 1;
    } else if (req instanceof ClientRequest.Heartbeat) {
      return 2;
    } else if (req instanceof ClientRequest.Reconnect) {
      return 3;
    } else if (req instanceof ClientRequest.InvalidReconnect) {
      return 4;
    }
    return 5;
  }

  private static String histogram(int[] kinds) {
    String[] names = {"Subscribe", "Unsubscribe", "Heartbeat", "Reconnect", "InvalidReconnect", "Invalid"};
    Map<String, Integer> h = new LinkedHashMap<>();
    for (int i = 0; i < kinds.length; i++) {
      h.put(names[i], kinds[i]);
    }
    return h.toString();
  }

  static String abbreviate(String s) {
    String shown = s.length() <= 300 ? s : s.substring(0, 200) + "…(" + s.length() + " chars)…" + s.substring(s.length() - 60);
    StringBuilder out = new StringBuilder();
    shown.codePoints().forEach(cp -> {
      if (cp < 0x20 || cp == 0x7F || (cp >= 0xD800 && cp <= 0xDFFF)) {
        out.append(String.format("\\u%04x", cp));
      } else {
        out.appendCodePoint(cp);
      }
    });
    return out.toString();
  }

  // ---- random text --------------------------------------------------------------------------

  private static String randomString(Random r, int maxLen, boolean startAsObject) {
    int len = r.nextInt(maxLen + 1);
    StringBuilder sb = new StringBuilder(len + 8);
    if (startAsObject) {
      sb.append('{');
    }
    while (sb.length() < len) {
      switch (r.nextInt(8)) {
        case 0, 1 -> sb.append((char) (0x20 + r.nextInt(0x5F))); // printable ASCII
        case 2 -> sb.append(JSONISH.charAt(r.nextInt(JSONISH.length())));
        case 3 -> sb.append(r.nextBoolean() ? (char) r.nextInt(0x20) : '\u007F'); // control characters
        case 4 -> sb.append((char) r.nextInt(0x10000)); // any UTF-16 unit, lone surrogates included
        case 5 -> sb.appendCodePoint(0x10000 + r.nextInt(0x100000)); // supplementary code points
        default -> sb.append(TOKENS[r.nextInt(TOKENS.length)]);
      }
    }
    return sb.toString();
  }

  private static char randomChar(Random r) {
    return switch (r.nextInt(4)) {
      case 0 -> (char) (0x20 + r.nextInt(0x5F));
      case 1 -> "{}[]\":,\\ ".charAt(r.nextInt(9));
      case 2 -> (char) r.nextInt(0x20);
      default -> (char) r.nextInt(0x10000);
    };
  }

  // ---- random JSON documents and what the protocol says they are -----------------------------

  /** A JSON text emitted as is. */
  private record Raw(String text) {
    @Override
    public String toString() {
      return text;
    }
  }

  /** JSON null (a Java null cannot be told apart from "absent" in a map lookup). */
  private enum Literal { NULL }

  private static Map<String, Object> mapOf(Object... kv) {
    Map<String, Object> m = new LinkedHashMap<>();
    for (int i = 0; i < kv.length; i += 2) {
      m.put((String) kv[i], kv[i + 1]);
    }
    return m;
  }

  private static Object randomRequestTree(Random r) {
    if (r.nextInt(20) == 0) {
      return randomValue(r, 3); // not an object at all, usually
    }
    Map<String, Object> root = new LinkedHashMap<>();
    List<String> keys = new ArrayList<>(List.of("type", "data"));
    if (r.nextInt(4) == 0) {
      keys.add(randomKey(r));
    }
    java.util.Collections.shuffle(keys, r);
    for (String key : keys) {
      if (r.nextInt(10) == 0) {
        continue; // absent
      }
      root.put(key, switch (key) {
        case "type" -> r.nextInt(10) < 8 ? randomType(r) : randomValue(r, 2);
        case "data" -> r.nextInt(10) < 8 ? randomData(r) : randomValue(r, 2);
        default -> randomValue(r, 3);
      });
    }
    return root;
  }

  private static String randomType(Random r) {
    String[] types = {"subscribe", "unsubscribe", "heartbeat", "reconnect", "auth", "Auth", "Subscribe", "subscribe ", "", "error", "pong",
        "subscription_ack", "\u0000", "heartbeat\u0000"};
    return r.nextInt(6) == 0 ? randomText(r) : types[r.nextInt(types.length)];
  }

  /** JWT-like text: base64url parts and dots, often broken, sometimes empty or huge. */
  private static String randomToken(Random r) {
    String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ \u0000\u00e9";
    int length = switch (r.nextInt(8)) {
      case 0 -> 0;
      case 1 -> 20_000;
      default -> r.nextInt(400);
    };
    StringBuilder sb = new StringBuilder(length);
    for (int i = 0; i < length; i++) {
      sb.append(alphabet.charAt(r.nextInt(alphabet.length())));
    }
    return sb.toString();
  }

  private static Map<String, Object> randomData(Random r) {
    Map<String, Object> data = new LinkedHashMap<>();
    for (String key : new String[] {"channels", "last_offset", "client_id", "token"}) {
      if (r.nextInt(4) == 0) {
        continue;
      }
      data.put(key, switch (key) {
        case "channels" -> r.nextInt(10) < 7 ? randomChannels(r) : randomValue(r, 2);
        case "last_offset" -> r.nextInt(10) < 7 ? randomOffsets(r) : randomValue(r, 2);
        case "token" -> r.nextInt(10) < 7 ? randomToken(r) : randomValue(r, 2);
        default -> r.nextInt(10) < 7 ? randomText(r) : randomValue(r, 1);
      });
    }
    if (r.nextInt(5) == 0) {
      data.put(randomKey(r), randomValue(r, 2));
    }
    return data;
  }

  private static List<Object> randomChannels(Random r) {
    List<Object> channels = new ArrayList<>();
    int n = r.nextInt(6);
    for (int i = 0; i < n; i++) {
      channels.add(r.nextInt(12) == 0 ? randomValue(r, 1) : randomChannel(r));
    }
    return channels;
  }

  private static String randomChannel(Random r) {
    String[] channels = {"BTC.trade", "ETH.liquidity", "BTC.*", "*.trade", "nodot", ".trade", "BTC.", "A B.trade", "x".repeat(200) + ".trade"};
    return r.nextBoolean() ? channels[r.nextInt(channels.length)] : randomText(r) + "." + randomText(r);
  }

  private static Map<String, Object> randomOffsets(Random r) {
    Map<String, Object> offsets = new LinkedHashMap<>();
    int n = r.nextInt(4);
    for (int i = 0; i < n; i++) {
      Object v = switch (r.nextInt(8)) {
        case 0, 1 -> r.nextInt(12) + ":" + r.nextInt(100_000);
        case 2 -> (long) r.nextInt(100_000);
        case 3 -> randomText(r);
        default -> r.nextInt(3) == 0 ? randomValue(r, 1) : (Object) (r.nextInt(12) + ":" + r.nextInt(100));
      };
      offsets.put(r.nextInt(3) == 0 ? "odin.trades" : randomChannel(r), v);
    }
    return offsets;
  }

  private static String randomKey(Random r) {
    String[] keys = {"type", "data", "channels", "last_offset", "client_id", "", "Type", "TYPE", "x"};
    return r.nextBoolean() ? keys[r.nextInt(keys.length)] : randomText(r);
  }

  private static String randomText(Random r) {
    int len = r.nextInt(r.nextInt(8) == 0 ? 300 : 12);
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < len; i++) {
      switch (r.nextInt(6)) {
        case 0 -> sb.append((char) r.nextInt(0x20));
        case 1 -> sb.append((char) r.nextInt(0x10000));
        case 2 -> sb.appendCodePoint(0x10000 + r.nextInt(0x100000));
        case 3 -> sb.append("\"\\/.*".charAt(r.nextInt(5)));
        default -> sb.append((char) ('A' + r.nextInt(58)));
      }
    }
    return sb.toString();
  }

  private static Object randomValue(Random r, int depth) {
    int pick = r.nextInt(depth > 0 ? 11 : 9);
    return switch (pick) {
      case 0 -> Literal.NULL;
      case 1 -> r.nextBoolean();
      case 2 -> r.nextLong();
      case 3 -> r.nextDouble() * Math.pow(10, r.nextInt(600) - 300);
      case 4 -> new BigInteger(1 + r.nextInt(500), r).negate();
      case 5 -> new Raw(new String[] {"1e999", "-1e-999", "-0", "0.0", "1E+2"}[r.nextInt(5)]);
      case 6, 7 -> randomText(r);
      case 8 -> r.nextInt(12) + ":" + r.nextInt(1000);
      case 9 -> {
        List<Object> list = new ArrayList<>();
        int n = r.nextInt(4);
        for (int i = 0; i < n; i++) {
          list.add(randomValue(r, depth - 1));
        }
        yield list;
      }
      default -> {
        Map<String, Object> map = new LinkedHashMap<>();
        int n = r.nextInt(4);
        for (int i = 0; i < n; i++) {
          map.put(randomKey(r), randomValue(r, depth - 1));
        }
        yield map;
      }
    };
  }

  /** What PROTOCOL.md section 3 (and the reconnect_error of sections 4 and 6) says a document is. */
  private record Expected(Class<? extends ClientRequest> type, String code, List<String> channels, String clientId,
                          List<String> offsetKeys) {
  }

  private static Expected expected(Object doc) {
    Expected invalidMessage = new Expected(ClientRequest.Invalid.class, "INVALID_MESSAGE", null, null, null);
    if (!(doc instanceof Map<?, ?> root)) {
      return invalidMessage;
    }
    if (!(root.get("type") instanceof String type)) {
      return invalidMessage;
    }
    Object data = root.get("data");
    if (data != null && data != Literal.NULL && !(data instanceof Map)) {
      return invalidMessage;
    }
    Map<?, ?> d = data instanceof Map<?, ?> m ? m : null;
    switch (type) {
      case "subscribe" -> {
        List<String> channels = strings(d == null ? null : d.get("channels"));
        Object lastOffset = d == null ? null : d.get("last_offset");
        boolean offsetOk = lastOffset == null || lastOffset == Literal.NULL || lastOffset instanceof Map;
        return channels != null && offsetOk ? new Expected(ClientRequest.Subscribe.class, null, channels, null, null) : invalidMessage;
      }
      case "unsubscribe" -> {
        List<String> channels = strings(d == null ? null : d.get("channels"));
        return channels != null ? new Expected(ClientRequest.Unsubscribe.class, null, channels, null, null) : invalidMessage;
      }
      case "heartbeat" -> {
        return new Expected(ClientRequest.Heartbeat.class, null, null, null, null);
      }
      case "auth" -> {
        Object token = d == null ? null : d.get("token");
        return token instanceof String s && !s.isEmpty() ? new Expected(ClientRequest.Auth.class, null, null, null, null) : invalidMessage;
      }
      case "reconnect" -> {
        Object lastOffset = d == null ? null : d.get("last_offset");
        if (!(lastOffset instanceof Map<?, ?> offsets)) {
          return new Expected(ClientRequest.InvalidReconnect.class, null, null, null, null);
        }
        for (Object v : offsets.values()) {
          if (!(v instanceof String) && !(v instanceof Number) && !(v instanceof Raw)) {
            return new Expected(ClientRequest.InvalidReconnect.class, null, null, null, null);
          }
        }
        Object clientId = d.get("client_id");
        List<String> keys = offsets.keySet().stream().map(k -> (String) k).toList();
        return new Expected(ClientRequest.Reconnect.class, null, null, clientId instanceof String s ? s : null, keys);
      }
      default -> {
        return new Expected(ClientRequest.Invalid.class, "UNKNOWN_TYPE", null, null, null);
      }
    }
  }

  private static List<String> strings(Object value) {
    if (!(value instanceof List<?> list)) {
      return null;
    }
    List<String> out = new ArrayList<>();
    for (Object o : list) {
      if (!(o instanceof String s)) {
        return null;
      }
      out.add(s);
    }
    return out;
  }

  // ---- a tiny JSON writer and tree editor (so documents can hold what an encoder would refuse) ---

  /** Writes {@code value} as JSON; with {@code r}, random whitespace and random escaping of string characters. */
  private static String toJson(Object value, Random r) {
    StringBuilder sb = new StringBuilder();
    write(sb, value, r);
    return sb.toString();
  }

  private static void write(StringBuilder sb, Object v, Random r) {
    space(sb, r);
    if (v == null || v == Literal.NULL) {
      sb.append("null");
    } else if (v instanceof String s) {
      writeString(sb, s, r);
    } else if (v instanceof Map<?, ?> m) {
      sb.append('{');
      boolean first = true;
      for (Map.Entry<?, ?> e : m.entrySet()) {
        if (!first) {
          sb.append(',');
        }
        first = false;
        space(sb, r);
        writeString(sb, (String) e.getKey(), r);
        space(sb, r);
        sb.append(':');
        write(sb, e.getValue(), r);
      }
      space(sb, r);
      sb.append('}');
    } else if (v instanceof List<?> l) {
      sb.append('[');
      for (int i = 0; i < l.size(); i++) {
        if (i > 0) {
          sb.append(',');
        }
        write(sb, l.get(i), r);
      }
      space(sb, r);
      sb.append(']');
    } else if (v instanceof Double d) {
      sb.append(d.isNaN() || d.isInfinite() ? "0" : d.toString());
    } else {
      sb.append(v); // Boolean, Long, BigInteger, Raw
    }
    space(sb, r);
  }

  private static void space(StringBuilder sb, Random r) {
    if (r != null && r.nextInt(8) == 0) {
      sb.append(" \t\r\n".charAt(r.nextInt(4)));
    }
  }

  private static void writeString(StringBuilder sb, String s, Random r) {
    sb.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '"' || c == '\\') {
        sb.append('\\').append(c);
      } else if (c < 0x20 || (r != null && r.nextInt(10) == 0)) {
        sb.append(String.format("\\u%04x", (int) c)); // required for control characters, allowed for any
      } else {
        sb.append(c);
      }
    }
    sb.append('"');
  }

  /** Parses the examples into the tree form above (they are plain JSON). */
  private static Object fromJson(String text) {
    return fromVertx(io.vertx.core.json.Json.decodeValue(text));
  }

  private static Object fromVertx(Object v) {
    if (v instanceof io.vertx.core.json.JsonObject o) {
      Map<String, Object> m = new LinkedHashMap<>();
      o.forEach(e -> m.put(e.getKey(), fromVertx(e.getValue())));
      return m;
    }
    if (v instanceof io.vertx.core.json.JsonArray a) {
      List<Object> l = new ArrayList<>();
      a.forEach(x -> l.add(fromVertx(x)));
      return l;
    }
    if (v instanceof Integer i) {
      return (long) i;
    }
    return v == null ? Literal.NULL : v;
  }

  /** Every path to a value (the root included, as the empty path); keys for objects, indexes for arrays. */
  private static void collectPaths(Object node, List<Object> path, List<List<Object>> out) {
    out.add(List.copyOf(path));
    if (node instanceof Map<?, ?> m) {
      for (Object k : m.keySet()) {
        path.add(k);
        collectPaths(m.get(k), path, out);
        path.remove(path.size() - 1);
      }
    } else if (node instanceof List<?> l) {
      for (int i = 0; i < l.size(); i++) {
        path.add(i);
        collectPaths(l.get(i), path, out);
        path.remove(path.size() - 1);
      }
    }
  }

  @SuppressWarnings("unchecked")
  private static Object replaceAt(Object node, List<Object> path, Object replacement) {
    if (path.isEmpty()) {
      return replacement;
    }
    Object head = path.get(0);
    List<Object> rest = path.subList(1, path.size());
    if (node instanceof Map<?, ?> m) {
      Map<String, Object> copy = new LinkedHashMap<>((Map<String, Object>) m);
      copy.put((String) head, replaceAt(m.get(head), rest, replacement));
      return copy;
    }
    List<Object> copy = new ArrayList<>((List<Object>) node);
    copy.set((Integer) head, replaceAt(copy.get((Integer) head), rest, replacement));
    return copy;
  }
}
