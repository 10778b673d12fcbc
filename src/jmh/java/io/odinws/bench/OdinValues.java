package io.odinws.bench;

import io.odinws.config.ConfigLoader;
import io.odinws.tools.publish.OdinEventFactory;
import io.odinws.tools.publish.OdinEventType;
import io.vertx.core.json.JsonObject;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Realistic Odin record values and names for the benchmarks, from the demo publisher's own event
 * factory (fixed seed: the same bytes on every run).
 */
public final class OdinValues {

  /** A fixed "now" for envelopes. */
  public static final long TS = 1_700_000_000_000L;

  private OdinValues() {
  }

  /** The server's default topic to category map (the one a plain deployment runs with). */
  public static Map<String, String> defaultTopics() {
    return ConfigLoader.resolve(new JsonObject(), Map.of()).kafka().topics();
  }

  /** The default topic of {@code category}. */
  public static String topicOf(String category) {
    return defaultTopics().entrySet().stream().filter(e -> e.getValue().equals(category))
        .map(Map.Entry::getKey).findFirst().orElseThrow();
  }

  /**
   * A record value of about {@code targetBytes}, valid JSON: up to 300 bytes, the single Odin event
   * whose size is closest (150 gives ANALYTICS_RECALCULATED, 280 TRADE_EXECUTED); above, a trade
   * snapshot {@code {"type":"TRADES_SNAPSHOT","timestamp":T,"data":{"symbol":"BTC","trades":[...]}}}
   * of as many real trade payloads as bring it closest to the target.
   */
  public static byte[] value(int targetBytes) {
    OdinEventFactory events = new OdinEventFactory(List.of("BTC"), defaultTopics(), new SplittableRandom(42));
    if (targetBytes <= 300) {
      byte[] best = null;
      for (OdinEventType type : OdinEventType.values()) {
        byte[] v = events.next(type, "BTC", TS).value();
        if (best == null || Math.abs(v.length - targetBytes) < Math.abs(best.length - targetBytes)) {
          best = v;
        }
      }
      return best;
    }
    String head = "{\"type\":\"TRADES_SNAPSHOT\",\"timestamp\":" + TS + ",\"data\":{\"symbol\":\"BTC\",\"trades\":[";
    String tail = "]}}";
    StringBuilder trades = new StringBuilder();
    String best = null;
    while (true) {
      String event = new String(events.next(OdinEventType.TRADE_EXECUTED, "BTC", TS).value(), StandardCharsets.UTF_8);
      String data = event.substring(event.indexOf("\"data\":") + 7, event.length() - 1);
      if (trades.length() > 0) {
        trades.append(',');
      }
      trades.append(data);
      String candidate = head + trades + tail;
      if (best == null || Math.abs(candidate.length() - targetBytes) <= Math.abs(best.length() - targetBytes)) {
        best = candidate;
      }
      if (candidate.length() >= targetBytes) {
        return best.getBytes(StandardCharsets.UTF_8);
      }
    }
  }

  /**
   * {@code count} distinct token ids: the publisher's 20 default tokens first, then generated ones
   * shaped like Odin's (short upper-case alphanumerics).
   */
  public static String[] tokens(int count) {
    String[] out = new String[count];
    List<String> known = io.odinws.tools.publish.PublisherOptions.DEFAULT_TOKENS;
    java.util.Set<String> seen = new java.util.HashSet<>();
    SplittableRandom rng = new SplittableRandom(7);
    int n = 0;
    for (String t : known) {
      if (n == count) {
        break;
      }
      out[n++] = t;
      seen.add(t);
    }
    String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    while (n < count) {
      int len = 3 + rng.nextInt(4);
      StringBuilder sb = new StringBuilder(len);
      sb.append(alphabet.charAt(rng.nextInt(26)));
      for (int i = 1; i < len; i++) {
        sb.append(alphabet.charAt(rng.nextInt(alphabet.length())));
      }
      if (seen.add(sb.toString())) {
        out[n++] = sb.toString();
      }
    }
    return out;
  }

  /** The eight categories, in the default topics' order. */
  public static List<String> categories() {
    return OdinEventType.CATEGORIES;
  }
}
