package io.odinws.it;

import io.netty.channel.Channel;
import io.odinws.shard.ShardVerticle;
import io.odinws.testkit.Await;
import io.odinws.testkit.EmbeddedKafka;
import io.odinws.testkit.KafkaBrokerExtension;
import io.odinws.testkit.OdinTopics;
import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Seeded fuzzing of the public port over real sockets: random and mutated HTTP requests before the upgrade, random
 * and mutated WebSocket frames after it. Every connection must end in a documented way (PROTOCOL.md sections 1, 3
 * and 7, RFC 6455) within seconds, and the server must come out of it healthy, with no unexpected exception.
 * A failure names the seed and the case number; each case uses its own {@code Random(SEED + 7919 * case)}.
 *
 * <p>Each test checks its own aftermath (every socket closed, a fresh client served, no unexpected exception in
 * its window) and leaves the shared server as it found it, so the tests run alone or in any order. A Netty leak
 * fails the class through NettyLeakExtension.
 */
@ExtendWith({KafkaBrokerExtension.class, VertxExtension.class})
class UpgradeFuzzTest {

  private static final long SEED = 0x0D1_F022L;
  private static final int HTTP_CONNECTIONS = 300;
  private static final int WS_CONNECTIONS = 200;
  private static final int PARALLEL = 20;
  private static final int HANDSHAKE_TIMEOUT_MS = 1000;
  /**
   * The shard sweeps once a second, so a silent socket is closed within timeout + 1 s; the rest is slack for a
   * machine whose cores are busy with other work (a healthy case ends long before, so the slack costs nothing).
   */
  private static final int OUTCOME_WITHIN_MS = HANDSHAKE_TIMEOUT_MS + 1000 + 18_000;

  private static final Set<Integer> HTTP_STATUSES = Set.of(101, 400, 404, 405, 413, 426, 431, 503);
  private static final Set<Integer> CLOSE_CODES = Set.of(1002, 1007, 1008, 1009, 1011);
  private static final Set<String> REPLY_TYPES =
      Set.of("subscription_ack", "unsubscription_ack", "pong", "error", "reconnect_ack", "reconnect_error");
  private static final Set<String> ERROR_CODES = Set.of("INVALID_MESSAGE", "UNKNOWN_TYPE", "BINARY_NOT_SUPPORTED", "RATE_LIMIT_EXCEEDED");
  private static final Pattern STATUS_LINE = Pattern.compile("HTTP/1\\.[01] (\\d{3})(?: .*)?");
  private static final Pattern VERSION_13 = Pattern.compile("(?im)^sec-websocket-version:[ \\t]*13[ \\t]*\\r?$");
  private static final Pattern ANY_VERSION = Pattern.compile("(?im)^sec-websocket-version:");

  private static EmbeddedKafka kafka;
  private static ServerHarness server;
  /** The current test's WARN and ERROR events. */
  private FuzzLogCapture logs;
  private long connectionErrorsBefore;
  /** What each fuzz socket of the current test sent, by its local port: the server logs the remote port of a connection error. */
  private static final Map<Integer, String> inputByLocalPort = new ConcurrentHashMap<>();

  @BeforeAll
  @Timeout(value = 120, timeUnit = TimeUnit.SECONDS)
  static void start(EmbeddedKafka broker, VertxTestContext ctx) {
    kafka = broker;
    OdinTopics.createAll(kafka);
    // Admission limits off and resource guards at 100%: a burst of 500 loopback connections is the point here.
    ServerHarness.deploy(kafka, new JsonObject()
        .put("shards", 2)
        .put("ws", new JsonObject().put("handshakeTimeoutMs", HANDSHAKE_TIMEOUT_MS))
        .put("admission", new JsonObject().put("enabled", false).put("cpuRejectPercent", 100).put("heapRejectPercent", 100)))
        .onComplete(ctx.succeeding(h -> {
          server = h;
          ctx.completeNow();
        }));
  }

  @AfterAll
  static void stop(VertxTestContext ctx) {
    ServerHarness.stop(server).onComplete(ctx.succeedingThenComplete());
  }

  @BeforeEach
  void watch() {
    inputByLocalPort.clear(); // ports are reused across tests: only this test's sockets name inputs
    connectionErrorsBefore = connectionErrors();
    logs = FuzzLogCapture.attach("io.odinws", "io.netty");
  }

  @AfterEach
  void unwatch() {
    logs.close();
  }

  // =====================================================================================
  // (a) the HTTP request path
  // =====================================================================================

  private record HttpCase(int index, String kind, String description, byte[] bytes, boolean expectUpgrade) {
    String label() {
      return "HTTP case #" + index + " [" + kind + "] " + description + ": " + show(bytes);
    }
  }

  private record Outcome(String kind, String outcome, String problem, String input, long millis) {
  }

  @Test
  void randomAndMutatedHttpRequestsEndInADocumentedWay(TestInfo test, Vertx vertx) throws Exception {
    int port = server.port();
    List<Outcome> outcomes = runAll(HTTP_CONNECTIONS, i -> runHttp(httpCase(i, port), port));
    String report = report("HTTP (seed " + SEED + ")", outcomes);
    System.out.println(report);
    List<Outcome> bad = outcomes.stream().filter(o -> o.problem() != null).toList();
    assertTrue(bad.isEmpty(), bad.size() + " connections did not end in a documented way:\n"
        + bad.stream().limit(20).map(o -> "  " + o.problem() + "\n    input: " + o.input()).collect(Collectors.joining("\n"))
        + "\n" + report);
    assertHealthyAfterwards(test, vertx);
  }

  private static Outcome runHttp(HttpCase c, int port) {
    long t0 = System.nanoTime();
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
      inputByLocalPort.put(s.getLocalPort(), c.label());
      try {
        s.getOutputStream().write(c.bytes());
        s.getOutputStream().flush();
      } catch (IOException e) {
        // the server may close (after answering) before it has read everything: read what it said
      }
      long deadline = t0 + TimeUnit.MILLISECONDS.toNanos(OUTCOME_WITHIN_MS);
      InputStream in = s.getInputStream();
      while (true) {
        String line;
        try {
          line = readLine(s, in, deadline);
        } catch (SocketTimeoutException e) {
          return httpOutcome(c, "HANG", "no response and not closed within " + OUTCOME_WITHIN_MS + " ms", t0);
        } catch (IOException e) {
          return httpOutcome(c, "reset", null, t0);
        }
        if (line == null) {
          return httpOutcome(c, "closed", null, t0);
        }
        Matcher m = STATUS_LINE.matcher(line);
        if (!m.matches()) {
          return httpOutcome(c, "garbage", "the reply is not an HTTP status line: " + show(line.getBytes(StandardCharsets.ISO_8859_1)), t0);
        }
        int status = Integer.parseInt(m.group(1));
        if (status == 100) { // informational (Expect: 100-continue): the final answer follows
          try {
            do {
              line = readLine(s, in, deadline); // the 100's header lines, up to the empty one
            } while (line != null && !line.isEmpty());
          } catch (SocketTimeoutException e) {
            return httpOutcome(c, "100 then HANG", "no final response within " + OUTCOME_WITHIN_MS + " ms after 100 Continue", t0);
          } catch (IOException e) {
            line = null;
          }
          if (line == null) {
            return httpOutcome(c, "100 then closed", null, t0);
          }
          continue;
        }
        String outcome = String.valueOf(status);
        String sent = new String(c.bytes(), StandardCharsets.ISO_8859_1);
        if (status == 101 && !VERSION_13.matcher(sent).find()) {
          if (!ANY_VERSION.matcher(sent).find()) {
            // Netty's factory falls back to the pre-RFC hixie-75/76 handshake and framing when there is no version
            // header; PROTOCOL.md section 1 (RFC 6455 4.2.2) wants 426 with Sec-WebSocket-Version: 13
            return httpOutcome(c, "101 without any Sec-WebSocket-Version (hixie-75/76)",
                "a request without Sec-WebSocket-Version was upgraded to the pre-RFC 6455 protocol: " + line, t0);
          }
          outcome = "101 with Sec-WebSocket-Version other than 13";
        }
        if (!HTTP_STATUSES.contains(status)) {
          return httpOutcome(c, outcome, "undocumented HTTP status " + line, t0);
        }
        if (c.expectUpgrade() && status != 101) {
          return httpOutcome(c, outcome, "a valid upgrade request was answered " + line, t0);
        }
        return httpOutcome(c, outcome, null, t0);
      }
    } catch (IOException e) {
      return httpOutcome(c, "connect failed", "cannot connect: " + e, t0);
    }
  }

  private static Outcome httpOutcome(HttpCase c, String outcome, String problem, long t0) {
    long ms = (System.nanoTime() - t0) / 1_000_000;
    return new Outcome(c.kind(), outcome, problem == null ? null : "HTTP case #" + c.index() + " (seed " + SEED + ") [" + c.kind()
        + "] " + c.description() + " -> " + outcome + " after " + ms + " ms: " + problem, c.label(), ms);
  }

  /** One line without its CR LF; null at end of stream before any byte; an incomplete last line as is. */
  private static String readLine(Socket s, InputStream in, long deadlineNanos) throws IOException {
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    while (true) {
      long left = (deadlineNanos - System.nanoTime()) / 1_000_000;
      if (left <= 0) {
        throw new SocketTimeoutException();
      }
      s.setSoTimeout((int) left);
      int b = in.read();
      if (b < 0) {
        return line.size() == 0 ? null : line.toString(StandardCharsets.ISO_8859_1);
      }
      if (b == '\n') {
        String text = line.toString(StandardCharsets.ISO_8859_1);
        return text.endsWith("\r") ? text.substring(0, text.length() - 1) : text;
      }
      line.write(b);
      if (line.size() > 16_384) {
        return line.toString(StandardCharsets.ISO_8859_1);
      }
    }
  }

  private static final String[] HTTP_KINDS = {"valid", "request-line", "headers", "version", "key/upgrade/connection", "huge",
      "binary", "body", "pipelined", "paths", "byte-mutations", "legacy-handshake"};

  /** Case {@code i}: kinds in turn, so every kind is covered; the details are random. */
  private static HttpCase httpCase(int i, int port) {
    Random r = new Random(SEED + 7919L * i);
    byte[] keyBytes = new byte[16];
    r.nextBytes(keyBytes);
    String key = Base64.getEncoder().encodeToString(keyBytes);
    List<String> headers = new ArrayList<>(List.of("Host: 127.0.0.1:" + port, "Upgrade: websocket", "Connection: Upgrade",
        "Sec-WebSocket-Key: " + key, "Sec-WebSocket-Version: 13"));
    String line = "GET /ws HTTP/1.1";
    String eol = "\r\n";
    byte[] body = new byte[0];
    byte[] after = new byte[0];
    boolean expectUpgrade = false;
    String kind = HTTP_KINDS[i % HTTP_KINDS.length];
    String what;
    switch (kind) {
      case "valid" -> {
        expectUpgrade = true;
        List<String> extras = new ArrayList<>();
        if (r.nextBoolean()) {
          line = "GET /ws?token=" + r.nextInt(1_000_000) + "&x=%20y HTTP/1.1";
        }
        if (r.nextBoolean()) {
          headers.set(1, "upgrade: WebSocket");
          headers.set(2, "CONNECTION: keep-alive, Upgrade");
        }
        String[] optional = {"Origin: http://example.com", "Sec-WebSocket-Protocol: chat, superchat",
            "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits", "User-Agent: fuzz/1.0", "Cookie: a=b; c=d",
            "Accept-Encoding: gzip", "Pragma: no-cache", "Cache-Control: no-cache", "X-Forwarded-For: 10.0.0." + r.nextInt(255)};
        for (String o : optional) {
          if (r.nextInt(3) == 0) {
            extras.add(o);
          }
        }
        headers.addAll(extras);
        Collections.shuffle(headers, r);
        what = "valid upgrade " + extras;
      }
      case "request-line" -> {
        int v = r.nextInt(14);
        switch (v) {
          case 0 -> line = pick(r, "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "CONNECT", "TRACE", "PATCH", "PRI", "G ET", "", "GETT",
              randomToken(r, 1 + r.nextInt(20))) + " /ws HTTP/1.1";
          case 1 -> line = "GET /ws " + pick(r, "HTTP/1.0", "HTTP/2.0", "HTTP/0.9", "HTTP/1.2", "HTTP/9.9", "HTTPS/1.1", "http/1.1",
              "HTTP/1.1 extra", "HTTP/1", "HTTP/", "", "HTTP/1.1.1", "HTTP/-1.1", "HTTP/99999999999.1");
          case 2 -> line = "GET " + pick(r, "/", "/wss", "/WS", "//ws", "/ws/", "/ws#x", "/%77s", "*", "http://127.0.0.1/ws", "ws", "",
              "/ws\u0000", "/ws%00", "/../ws", "/ws;x", "/ws?" + "q".repeat(3000), "/ws?\u00ff\u00fe") + " HTTP/1.1";
          case 3 -> line = pick(r, "GET  /ws  HTTP/1.1", "GET\t/ws\tHTTP/1.1", " GET /ws HTTP/1.1", "GET /ws HTTP/1.1 ", "GET /ws  HTTP/1.1");
          case 4 -> line = pick(r, "GET /ws", "GET", "/ws HTTP/1.1", "GET HTTP/1.1", "HTTP/1.1", " ");
          case 5 -> line = "GET /ws?" + "a".repeat(4000 + r.nextInt(8000)) + " HTTP/1.1";
          case 6 -> line = insertRandom(r, line, 1 + r.nextInt(4));
          case 7 -> eol = "\n";
          case 8 -> eol = "\r"; // no line feed at all: the request never ends
          case 9 -> line = "\r\n\r\n" + line;
          case 10 -> line = "get /ws HTTP/1.1";
          case 11 -> line = "G\u00c9T /ws HTTP/1.1";
          case 12 -> line = "GET /w\u0000s HTTP/1.1";
          default -> {
            line = "GET /ws HTTP/1.0";
            headers.add("Connection: keep-alive");
          }
        }
        what = "request line variant " + v;
      }
      case "headers" -> {
        StringBuilder ops = new StringBuilder();
        int n = 1 + r.nextInt(4);
        for (int k = 0; k < n; k++) {
          int op = r.nextInt(13);
          ops.append(op).append(' ');
          int at = headers.isEmpty() ? 0 : r.nextInt(headers.size());
          switch (op) {
            case 0 -> {
              if (!headers.isEmpty()) {
                headers.remove(at);
              }
            }
            case 1 -> {
              if (!headers.isEmpty()) {
                headers.add(headers.get(at));
              }
            }
            case 2 -> {
              if (!headers.isEmpty()) {
                String h = headers.get(at);
                headers.set(at, h.substring(0, h.indexOf(':') + 1) + " " + randomBytesAsLatin1(r, 1 + r.nextInt(40)));
              }
            }
            case 3 -> headers.add(r.nextInt(headers.size() + 1), "Upgrade : websocket");
            case 4 -> headers.add(r.nextInt(headers.size() + 1), "NoColonHere " + randomToken(r, 8));
            case 5 -> headers.add(r.nextInt(headers.size() + 1), ": empty-name");
            case 6 -> headers.add(r.nextInt(headers.size() + 1), " folded-continuation " + randomToken(r, 5)); // obs-fold
            case 7 -> headers.add(r.nextInt(headers.size() + 1), "X-Nul: a\u0000b");
            case 8 -> headers.add(r.nextInt(headers.size() + 1), "X-\u00e9\u00ff: latin1");
            case 9 -> headers.removeIf(h -> h.startsWith("Host"));
            case 10 -> headers.add(r.nextInt(headers.size() + 1), "Content-Length: " + pick(r, "abc", "-1", "1 2", "", "0x10"));
            case 11 -> headers.add(r.nextInt(headers.size() + 1), "X-" + randomToken(r, 6) + ": " + randomBytesAsLatin1(r, r.nextInt(100)));
            default -> headers.add(0, "\tleading-whitespace: x");
          }
        }
        what = "header ops " + ops.toString().trim();
      }
      case "version" -> {
        headers.removeIf(h -> h.startsWith("Sec-WebSocket-Version"));
        int v = r.nextInt(18);
        String[] values = {"", "0", "7", "8", "12", "14", "13 ", " 13", "13,8", "8, 13", "abc", "-1", "99999999999999999999",
            "1\u0663", "13\u0000"};
        if (v < values.length) {
          headers.add("Sec-WebSocket-Version: " + values[v]);
          what = "Sec-WebSocket-Version '" + values[v] + "'";
        } else if (v == values.length) {
          what = "no Sec-WebSocket-Version";
        } else if (v == values.length + 1) {
          headers.add("Sec-WebSocket-Version: 13");
          headers.add("Sec-WebSocket-Version: 8");
          what = "Sec-WebSocket-Version 13 and 8";
        } else {
          headers.add("Sec-WebSocket-Version: 8");
          headers.add("Sec-WebSocket-Version: 13");
          what = "Sec-WebSocket-Version 8 and 13";
        }
      }
      case "key/upgrade/connection" -> {
        int v = r.nextInt(12);
        switch (v) {
          case 0 -> headers.removeIf(h -> h.startsWith("Sec-WebSocket-Key"));
          case 1 -> replaceHeader(headers, "Sec-WebSocket-Key", "");
          case 2 -> replaceHeader(headers, "Sec-WebSocket-Key", randomBytesAsLatin1(r, 1 + r.nextInt(60)));
          case 3 -> replaceHeader(headers, "Sec-WebSocket-Key", "k".repeat(2000 + r.nextInt(4000)));
          case 4 -> replaceHeader(headers, "Upgrade", "h2c");
          case 5 -> replaceHeader(headers, "Upgrade", "websocket, h2c");
          case 6 -> headers.removeIf(h -> h.startsWith("Upgrade"));
          case 7 -> replaceHeader(headers, "Connection", "keep-alive");
          case 8 -> replaceHeader(headers, "Connection", "close");
          case 9 -> headers.removeIf(h -> h.startsWith("Connection"));
          case 10 -> replaceHeader(headers, "Connection", "Upgrade, close");
          default -> replaceHeader(headers, "Upgrade", "WebSocket/13");
        }
        what = "key/upgrade/connection variant " + v;
      }
      case "huge" -> {
        int v = r.nextInt(5);
        switch (v) {
          case 0 -> headers.add("X-Huge: " + "h".repeat(8200 + r.nextInt(12_000)));
          case 1 -> {
            int n = 500 + r.nextInt(1500);
            for (int k = 0; k < n; k++) {
              headers.add("X-H" + k + ": " + k);
            }
          }
          case 2 -> headers.add("Cookie: " + "c=" + "v".repeat(8000 + r.nextInt(30_000)));
          case 3 -> headers.add("X-Almost: " + "a".repeat(7000 + r.nextInt(1200))); // around the 8 KiB header limit
          default -> line = "GET /" + "p".repeat(4100 + r.nextInt(6000)) + " HTTP/1.1";
        }
        what = "huge variant " + v;
      }
      case "binary" -> {
        byte[] random = new byte[1 + r.nextInt(r.nextBoolean() ? 64 : 4096)];
        r.nextBytes(random);
        int v = r.nextInt(3);
        byte[] prefix = v == 0 ? new byte[0] : (v == 1 ? "GET /ws HTTP/1.1\r\n" : "GET /ws HTTP/1.1\r\nHost: x\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
        return new HttpCase(i, kind, "random binary (" + random.length + " bytes) after " + prefix.length + " prefix bytes",
            concat(prefix, random), false);
      }
      case "body" -> {
        int v = r.nextInt(14);
        switch (v) {
          case 0 -> {
            body = randomBytes(r, 1 + r.nextInt(200));
            headers.add("Content-Length: " + body.length);
          }
          case 1 -> {
            body = randomBytes(r, 9000 + r.nextInt(1000));
            headers.add("Content-Length: " + body.length);
          }
          case 2 -> {
            body = randomBytes(r, 50_000 + r.nextInt(50_000));
            headers.add("Content-Length: " + body.length);
          }
          case 3 -> headers.add("Content-Length: -" + (1 + r.nextInt(100)));
          case 4 -> {
            headers.add("Content-Length: 5");
            headers.add("Content-Length: 7");
            body = "abcdefg".getBytes(StandardCharsets.US_ASCII);
          }
          case 5 -> {
            headers.add("Content-Length: 5");
            headers.add("Transfer-Encoding: chunked");
            body = "5\r\nhello\r\n0\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
          }
          case 6 -> {
            headers.add("Transfer-Encoding: chunked");
            body = "5\r\nhello\r\n0\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
          }
          case 7 -> {
            headers.add("Transfer-Encoding: chunked");
            body = "zz\r\nhello\r\n0\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
          }
          case 8 -> {
            headers.add("Transfer-Encoding: chunked");
            body = "FFFFFFFFFFFFFFFFFF\r\nhello\r\n".getBytes(StandardCharsets.US_ASCII);
          }
          case 9 -> {
            headers.add("Transfer-Encoding: chunked");
            body = ("2400\r\n" + "x".repeat(0x2400) + "\r\n0\r\n\r\n").getBytes(StandardCharsets.US_ASCII); // 9 KiB chunk
          }
          case 10 -> headers.add("Transfer-Encoding: gzip");
          case 11 -> {
            headers.add("Expect: 100-continue");
            headers.add("Content-Length: 4");
            body = "body".getBytes(StandardCharsets.US_ASCII);
          }
          case 12 -> {
            headers.add("Expect: 100-continue");
            headers.add("Content-Length: 100000");
          }
          default -> {
            headers.add("Content-Length: " + (100 + r.nextInt(1000))); // more than is sent: the server waits, then times out
            body = randomBytes(r, r.nextInt(50));
          }
        }
        what = "body variant " + v + " (" + body.length + " body bytes)";
      }
      case "pipelined" -> {
        int v = r.nextInt(6);
        byte[] valid = request(line, headers, eol, new byte[0]);
        switch (v) {
          case 0 -> after = randomBytes(r, 1 + r.nextInt(2000));
          case 1 -> after = valid;
          case 2 -> {
            byte[] first = "GET /nothing HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
            return new HttpCase(i, kind, "a 404 request then the upgrade", concat(first, valid), false);
          }
          case 3 -> after = maskedText("{\"type\":\"heartbeat\"}", r);
          case 4 -> {
            byte[] garbage = (randomToken(r, 10) + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
            return new HttpCase(i, kind, "garbage request then the upgrade", concat(garbage, valid), false);
          }
          default -> after = "GET /ws HTTP/1.1\r\nHost: x\r\n".getBytes(StandardCharsets.US_ASCII); // half a second request
        }
        what = "pipelined variant " + v + " (" + after.length + " bytes after the request)";
      }
      case "paths" -> {
        if (i % 36 == 9) { // a few silent ones: part of a valid request, then nothing
          byte[] valid = request(line, headers, eol, new byte[0]);
          int cut = 1 + r.nextInt(valid.length - 2);
          byte[] half = new byte[cut];
          System.arraycopy(valid, 0, half, 0, cut);
          return new HttpCase(i, "half-then-silence", "the first " + cut + " of " + valid.length + " bytes, then silence", half, false);
        }
        String path = pick(r, "/", "/wsx", "/ws/", "/ws?a=1", "/%77s", "/ws#frag", "/index.html", "/ws/../ws", "/WS", "/ws?",
            "/ws?x=" + "%".repeat(50), "/\u00e9", "/favicon.ico", "/metrics/x", "/healthz");
        line = "GET " + path + " HTTP/1.1";
        what = "path " + path;
      }
      case "byte-mutations" -> {
        byte[] b = request(line, headers, eol, new byte[0]);
        int n = 1 + r.nextInt(10);
        StringBuilder ops = new StringBuilder();
        for (int k = 0; k < n; k++) {
          int op = r.nextInt(5);
          int at = r.nextInt(b.length);
          ops.append(op).append('@').append(at).append(' ');
          switch (op) {
            case 0 -> b[at] = (byte) r.nextInt(256);
            case 1 -> b[at] ^= (byte) (1 << r.nextInt(8));
            case 2 -> b = splice(b, at, 0, new byte[] {(byte) r.nextInt(256)});
            case 3 -> b = splice(b, at, Math.min(1 + r.nextInt(4), b.length - at), new byte[0]);
            default -> b = splice(b, at, 0, pick(r, "\r\n", ":", " ", "\u0000", "\r\n\r\n", "\t").getBytes(StandardCharsets.ISO_8859_1));
          }
          if (b.length == 0) {
            b = new byte[] {'G'};
          }
        }
        return new HttpCase(i, kind, "byte mutations " + ops.toString().trim(), b, false);
      }
      default -> { // legacy handshakes: no version, hixie-75 (Origin) or hixie-76 (Sec-WebSocket-Key1/Key2 and 8 body bytes)
        headers.removeIf(h -> h.startsWith("Sec-WebSocket-Version"));
        int v = r.nextInt(8);
        String k1 = pick(r, "4 @1  46546xW%0l 1 5", "12998 5 Y3 1  .P00", "12345", "abc def", "99999999999999999999 9", " ", "1 ", "");
        String k2 = pick(r, "12998 5 Y3 1  .P00", "4 @1  46546xW%0l 1 5", "0 0", "x", "1");
        switch (v) {
          case 0 -> headers.add("Origin: http://example.com"); // hixie-75
          case 1, 2, 3, 4 -> {
            headers.add("Sec-WebSocket-Key1: " + k1);
            headers.add("Sec-WebSocket-Key2: " + k2);
            headers.add("Origin: http://example.com");
            body = randomBytes(r, 8);
          }
          case 5 -> {
            headers.add("Sec-WebSocket-Key1: " + k1);
            headers.add("Sec-WebSocket-Key2: " + k2);
            body = randomBytes(r, 8);
          }
          case 6 -> {
            headers.add("Sec-WebSocket-Key1: " + k1);
            headers.add("Sec-WebSocket-Key2: " + k2);
            headers.add("Origin: http://example.com");
            headers.add("Content-Length: 3");
            body = randomBytes(r, 3);
          }
          default -> {
          }
        }
        what = "legacy handshake variant " + v + (v >= 1 && v <= 6 ? " Key1='" + k1 + "' Key2='" + k2 + "'" : "");
      }
    }
    return new HttpCase(i, kind, what, concat(request(line, headers, eol, body), after), expectUpgrade);
  }

  private static byte[] request(String line, List<String> headers, String eol, byte[] body) {
    StringBuilder sb = new StringBuilder(line).append(eol);
    for (String h : headers) {
      sb.append(h).append(eol);
    }
    sb.append(eol);
    return concat(sb.toString().getBytes(StandardCharsets.ISO_8859_1), body);
  }

  private static void replaceHeader(List<String> headers, String name, String value) {
    for (int k = 0; k < headers.size(); k++) {
      if (headers.get(k).startsWith(name + ":")) {
        headers.set(k, name + ": " + value);
      }
    }
  }

  // =====================================================================================
  // (b) the WebSocket frame path
  // =====================================================================================

  /** What a unit of frames is, per RFC 6455 and PROTOCOL.md. */
  private enum Effect { OK, VIOLATION, CLIENT_CLOSE }

  /** A self-contained run of frames: it leaves no message half sent unless it is a violation. */
  private record Unit(String name, byte[] bytes, Effect effect, int code) {
  }

  private static final String[] WS_UNITS = {"json", "heartbeat", "random-text", "empty-text", "binary", "ping", "pong",
      "fragmented-text", "fragmented-binary", "max-size-text", "max-size-fragmented", "empty-fragments",
      "reserved-opcode", "unmasked", "rsv", "control-too-long", "fragmented-control", "continuation-without-start",
      "new-message-inside-fragmented", "invalid-utf8-text", "invalid-utf8-fragment", "huge-length", "negative-length",
      "non-minimal-length", "too-big-text", "too-big-fragmented", "close-1-byte", "close-invalid-code",
      "close-invalid-utf8-reason", "close"};

  @Test
  void randomAndMutatedFramesEndInADocumentedWay(TestInfo test, Vertx vertx) throws Exception {
    int port = server.port();
    List<Outcome> outcomes = runAll(WS_CONNECTIONS, i -> runWs(i, port));
    String report = report("WebSocket (seed " + SEED + ")", outcomes);
    System.out.println(report);
    List<Outcome> bad = outcomes.stream().filter(o -> o.problem() != null).toList();
    assertTrue(bad.isEmpty(), bad.size() + " connections did not end in a documented way:\n"
        + bad.stream().limit(20).map(o -> "  " + o.problem() + "\n    input: " + o.input()).collect(Collectors.joining("\n"))
        + "\n" + report);
    assertHealthyAfterwards(test, vertx);
  }

  private static Outcome runWs(int i, int port) {
    Random r = new Random(SEED + 7919L * (HTTP_CONNECTIONS + i));
    List<Unit> units = new ArrayList<>();
    units.add(unit(WS_UNITS[i % WS_UNITS.length], r));
    int more = r.nextInt(4);
    for (int k = 0; k < more; k++) {
      // mostly valid traffic around the case's unit, so a violation can come after a few good messages
      units.add(unit(r.nextInt(3) == 0 ? WS_UNITS[r.nextInt(WS_UNITS.length)] : WS_UNITS[r.nextInt(12)], r));
    }
    if (r.nextBoolean()) {
      Collections.shuffle(units, r);
    }
    Unit decisive = units.stream().filter(u -> u.effect() != Effect.OK).findFirst().orElse(null);
    String kind = decisive == null ? "valid traffic" : decisive.name().split(" ")[0]
        + (decisive.effect() == Effect.VIOLATION ? " (violation, " + decisive.code() + ")" : " (client close)");
    String probeChannel = "PROBE-" + i + ".trade";
    byte[] probe = maskedText("{\"type\":\"unsubscribe\",\"data\":{\"channels\":[\"" + probeChannel + "\"]}}", r);
    ByteArrayOutputStream all = new ByteArrayOutputStream();
    units.forEach(u -> all.writeBytes(u.bytes()));
    all.writeBytes(probe);
    String label = "WS case #" + i + " (seed " + SEED + ") units " + units.stream().map(Unit::name).toList()
        + " expecting " + (decisive == null ? "OK" : decisive.effect() + " " + decisive.code()) + ": " + show(all.toByteArray());
    long t0 = System.nanoTime();
    RawWsClient c;
    try {
      c = RawWsClient.connect(port);
    } catch (IOException e) {
      return new Outcome(kind, "handshake failed", label + " -> handshake failed: " + e, label, 0);
    }
    try (c) {
      inputByLocalPort.put(c.socket.getLocalPort(), label);
      c.socket.setSoTimeout(OUTCOME_WITHIN_MS);
      try {
        c.socket.getOutputStream().write(all.toByteArray());
        c.socket.getOutputStream().flush();
      } catch (IOException e) {
        // closed by the server part way: what it sent before is still to be read
      }
      String outcome = null;
      String problem = null;
      int errors = 0;
      while (outcome == null) {
        RawWsClient.Frame f;
        try {
          f = c.read();
        } catch (SocketTimeoutException e) {
          outcome = "HANG";
          problem = "neither the probe's ack, nor a close, within " + OUTCOME_WITHIN_MS + " ms";
          break;
        } catch (EOFException e) {
          outcome = "eof";
          break;
        } catch (IOException e) {
          outcome = e.getMessage() != null && e.getMessage().contains("masked") ? "masked server frame" : "reset";
          if (outcome.startsWith("masked")) {
            problem = e.getMessage();
          }
          break;
        }
        if (f == null) {
          outcome = "eof";
        } else if (f.opcode() == 0x8) {
          outcome = "close " + f.closeCode();
        } else if (f.opcode() == 0x1) {
          JsonObject json;
          try {
            json = new JsonObject(f.text());
          } catch (RuntimeException e) {
            outcome = "bad reply";
            problem = "a reply that is not a JSON object: " + f.text();
            break;
          }
          String type = json.getString("type");
          if (!REPLY_TYPES.contains(type) && !json.containsKey("seq")) {
            outcome = "bad reply";
            problem = "a reply of unknown type: " + f.text();
          } else if ("error".equals(type)) {
            errors++;
            if (!ERROR_CODES.contains(json.getString("code")) || json.getString("message", "").isEmpty()) {
              outcome = "bad reply";
              problem = "an undocumented error reply: " + f.text();
            }
          } else if ("unsubscription_ack".equals(type) && json.getJsonArray("unsubscribed", new JsonArray()).contains(probeChannel)) {
            outcome = errors > 0 ? "open (after " + (errors == 1 ? "an error reply" : "error replies") + ")" : "open";
          }
        } else if (f.opcode() != 0x9 && f.opcode() != 0xA) {
          outcome = "bad frame";
          problem = "a server frame with opcode " + f.opcode();
        }
      }
      if (problem == null) {
        problem = judge(decisive, outcome);
      }
      long ms = (System.nanoTime() - t0) / 1_000_000;
      return new Outcome(kind, outcome, problem == null ? null : label + " -> " + outcome + " after " + ms + " ms: " + problem, label, ms);
    } catch (IOException e) {
      return new Outcome(kind, "client error", label + " -> client error " + e, label, 0);
    }
  }

  /** Null when the outcome is documented for the first non-OK unit (or for all-OK traffic), else what is wrong. */
  private static String judge(Unit decisive, String outcome) {
    boolean open = outcome.startsWith("open");
    boolean closed = outcome.equals("eof") || outcome.equals("reset");
    if (decisive == null) {
      return open ? null : "valid traffic must leave the connection open (answered with replies or error replies)";
    }
    if (open) {
      return "the server accepted " + decisive.name() + " and kept the connection open";
    }
    if (closed) {
      return null;
    }
    int code = Integer.parseInt(outcome.substring("close ".length()));
    if (decisive.effect() == Effect.CLIENT_CLOSE) {
      return code == decisive.code() ? null : "the client's close " + decisive.code() + " was answered with " + code + ", not echoed";
    }
    return CLOSE_CODES.contains(code) ? null : "close code " + code + " is not one of " + new java.util.TreeSet<>(CLOSE_CODES);
  }

  private static Unit unit(String name, Random r) {
    switch (name) {
      case "json":
        return ok(name, maskedText(randomJsonish(r), r));
      case "heartbeat":
        return ok(name, maskedText("{\"type\":\"heartbeat\"}", r));
      case "random-text":
        return ok(name, frame(true, 0, 0x1, true, randomUnicode(r, r.nextInt(300)).getBytes(StandardCharsets.UTF_8), r));
      case "empty-text":
        return ok(name, frame(true, 0, 0x1, true, new byte[0], r));
      case "binary":
        return ok(name, frame(true, 0, 0x2, true, randomBytes(r, r.nextInt(2000)), r));
      case "ping":
        return ok(name, frame(true, 0, 0x9, true, randomBytes(r, r.nextInt(126)), r));
      case "pong":
        return ok(name, frame(true, 0, 0xA, true, randomBytes(r, r.nextInt(126)), r));
      case "fragmented-text":
        return ok(name, fragments(0x1, randomJsonish(r).getBytes(StandardCharsets.UTF_8), 2 + r.nextInt(5), true, r));
      case "fragmented-binary":
        return ok(name, fragments(0x2, randomBytes(r, 1 + r.nextInt(3000)), 2 + r.nextInt(5), true, r));
      case "max-size-text":
        return ok(name, frame(true, 0, 0x1, true, paddedHeartbeat(65_536), r));
      case "max-size-fragmented":
        return ok(name, fragments(0x1, paddedHeartbeat(65_536), 2 + r.nextInt(4), false, r));
      case "empty-fragments": {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.writeBytes(frame(false, 0, 0x1, true, new byte[0], r));
        b.writeBytes(frame(false, 0, 0x0, true, new byte[0], r));
        b.writeBytes(frame(true, 0, 0x0, true, "{\"type\":\"heartbeat\"}".getBytes(StandardCharsets.UTF_8), r));
        return ok(name, b.toByteArray());
      }
      case "reserved-opcode": {
        int opcode = new int[] {3, 4, 5, 6, 7, 11, 12, 13, 14, 15}[r.nextInt(10)];
        return violation(name + " " + opcode, frame(r.nextInt(4) != 0, 0, opcode, true, randomBytes(r, r.nextInt(100)), r), 1002);
      }
      case "unmasked": {
        int opcode = new int[] {0x1, 0x2, 0x9, 0xA, 0x8}[r.nextInt(5)];
        byte[] payload = opcode == 0x1 ? "{\"type\":\"heartbeat\"}".getBytes(StandardCharsets.UTF_8)
            : opcode == 0x8 ? new byte[] {0x03, (byte) 0xE8} : randomBytes(r, r.nextInt(100));
        return violation(name + " " + opcode, frame(true, 0, opcode, false, payload, r), 1002);
      }
      case "rsv": {
        int opcode = new int[] {0x1, 0x2, 0x9, 0x8, 0x0}[r.nextInt(5)];
        byte[] payload = opcode == 0x8 ? new byte[] {0x03, (byte) 0xE8} : "{\"type\":\"heartbeat\"}".getBytes(StandardCharsets.UTF_8);
        return violation(name + " " + opcode, frame(true, 1 + r.nextInt(7), opcode, true, payload, r), 1002);
      }
      case "control-too-long": {
        int opcode = new int[] {0x8, 0x9, 0xA}[r.nextInt(3)];
        byte[] payload = randomBytes(r, 126 + r.nextInt(300));
        if (opcode == 0x8) {
          payload[0] = 0x03;
          payload[1] = (byte) 0xE8;
        }
        return violation(name + " " + opcode, frame(true, 0, opcode, true, payload, r), 1002);
      }
      case "fragmented-control": {
        int opcode = new int[] {0x8, 0x9, 0xA}[r.nextInt(3)];
        return violation(name + " " + opcode, frame(false, 0, opcode, true, opcode == 0x8 ? new byte[] {0x03, (byte) 0xE8} : randomBytes(r, 10), r), 1002);
      }
      case "continuation-without-start":
        return violation(name, frame(r.nextBoolean(), 0, 0x0, true, "{\"type\":\"heartbeat\"}".getBytes(StandardCharsets.UTF_8), r), 1002);
      case "new-message-inside-fragmented": {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.writeBytes(frame(false, 0, r.nextBoolean() ? 0x1 : 0x2, true, "{\"type\":".getBytes(StandardCharsets.UTF_8), r));
        b.writeBytes(frame(r.nextBoolean(), 0, r.nextBoolean() ? 0x1 : 0x2, true, "\"heartbeat\"}".getBytes(StandardCharsets.UTF_8), r));
        return violation(name, b.toByteArray(), 1002);
      }
      case "invalid-utf8-text":
        return violation(name, frame(true, 0, 0x1, true, withInvalidUtf8(r), r), 1007);
      case "invalid-utf8-fragment": {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.writeBytes(frame(false, 0, 0x1, true, "{\"type\":\"heart".getBytes(StandardCharsets.UTF_8), r));
        b.writeBytes(frame(false, 0, 0x0, true, withInvalidUtf8(r), r));
        b.writeBytes(frame(true, 0, 0x0, true, "beat\"}".getBytes(StandardCharsets.UTF_8), r));
        return violation(name, b.toByteArray(), 1007);
      }
      case "huge-length": {
        long claimed = new long[] {1L << 62, Long.MAX_VALUE, 65_537, 1L << 31, 1L << 32, 1_000_000_000_000L}[r.nextInt(6)];
        return violation(name + " " + claimed, header(true, 0x1 + r.nextInt(2), 127, claimed, r), 1009);
      }
      case "negative-length":
        return violation(name, header(true, 0x1, 127, Long.MIN_VALUE | r.nextInt(1000), r), 1002);
      case "non-minimal-length": {
        boolean sixteen = r.nextBoolean();
        byte[] payload = "{\"type\":\"heartbeat\"}".getBytes(StandardCharsets.UTF_8);
        byte[] h = header(true, 0x1, sixteen ? 126 : 127, payload.length, r);
        return violation(name + (sixteen ? " 16-bit" : " 64-bit"), concat(h, maskWith(payload, h)), 1002);
      }
      case "too-big-text":
        return violation(name, frame(true, 0, r.nextBoolean() ? 0x1 : 0x2, true, paddedHeartbeat(65_537 + r.nextInt(5000)), r), 1009);
      case "too-big-fragmented":
        return violation(name, fragments(r.nextBoolean() ? 0x1 : 0x2, paddedHeartbeat(65_537 + r.nextInt(40_000)), 2 + r.nextInt(4), false, r), 1009);
      case "close-1-byte":
        return violation(name, frame(true, 0, 0x8, true, new byte[] {0x03}, r), 1002);
      case "close-invalid-code": {
        int code = new int[] {0, 1, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999}[r.nextInt(11)];
        return violation(name + " " + code, frame(true, 0, 0x8, true, new byte[] {(byte) (code >> 8), (byte) code}, r), 1002);
      }
      case "close-invalid-utf8-reason": {
        byte[] reason = withInvalidUtf8(r);
        return violation(name, frame(true, 0, 0x8, true, concat(new byte[] {0x03, (byte) 0xE8}, reason), r), 1007);
      }
      default: { // "close": a valid close, which the server echoes (RFC 6455 5.5.1)
        int code = new int[] {-1, 1000, 1001, 1003, 1007, 1008, 1011, 1012, 1014, 3000, 4000, 4999}[r.nextInt(12)];
        byte[] payload = code < 0 ? new byte[0]
            : concat(new byte[] {(byte) (code >> 8), (byte) code}, (r.nextBoolean() ? "bye \u00e9" : "").getBytes(StandardCharsets.UTF_8));
        return new Unit(name + " " + code, frame(true, 0, 0x8, true, payload, r), Effect.CLIENT_CLOSE, code);
      }
    }
  }

  private static Unit ok(String name, byte[] bytes) {
    return new Unit(name, bytes, Effect.OK, 0);
  }

  private static Unit violation(String name, byte[] bytes, int code) {
    return new Unit(name, bytes, Effect.VIOLATION, code);
  }

  /** One frame with minimal length encoding; masked with a random key when {@code masked}. */
  private static byte[] frame(boolean fin, int rsv, int opcode, boolean masked, byte[] payload, Random r) {
    ByteArrayOutputStream f = new ByteArrayOutputStream();
    f.write((fin ? 0x80 : 0) | (rsv << 4) | opcode);
    int len = payload.length;
    int maskBit = masked ? 0x80 : 0;
    if (len < 126) {
      f.write(maskBit | len);
    } else if (len <= 0xFFFF) {
      f.write(maskBit | 126);
      f.write(len >>> 8);
      f.write(len);
    } else {
      f.write(maskBit | 127);
      for (int k = 7; k >= 0; k--) {
        f.write((int) ((long) len >>> (8 * k)));
      }
    }
    if (!masked) {
      f.writeBytes(payload);
      return f.toByteArray();
    }
    byte[] mask = new byte[4];
    r.nextBytes(mask);
    f.writeBytes(mask);
    for (int k = 0; k < len; k++) {
      f.write(payload[k] ^ mask[k & 3]);
    }
    return f.toByteArray();
  }

  /** A masked frame header with a chosen length form ({@code len7} 126 or 127) and value, ending with the mask key. */
  private static byte[] header(boolean fin, int opcode, int len7, long length, Random r) {
    ByteArrayOutputStream f = new ByteArrayOutputStream();
    f.write((fin ? 0x80 : 0) | opcode);
    f.write(0x80 | len7);
    int bytes = len7 == 126 ? 2 : 8;
    for (int k = bytes - 1; k >= 0; k--) {
      f.write((int) (length >>> (8 * k)));
    }
    byte[] mask = new byte[4];
    r.nextBytes(mask);
    f.writeBytes(mask);
    return f.toByteArray();
  }

  /** Masks {@code payload} with the last four bytes of {@code header}. */
  private static byte[] maskWith(byte[] payload, byte[] header) {
    byte[] out = new byte[payload.length];
    for (int k = 0; k < payload.length; k++) {
      out[k] = (byte) (payload[k] ^ header[header.length - 4 + (k & 3)]);
    }
    return out;
  }

  private static byte[] maskedText(String text, Random r) {
    return frame(true, 0, 0x1, true, text.getBytes(StandardCharsets.UTF_8), r);
  }

  /** One message in {@code n} fragments (cut anywhere, even inside a UTF-8 sequence), with pings between them if asked. */
  private static byte[] fragments(int opcode, byte[] message, int n, boolean pings, Random r) {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    int from = 0;
    for (int k = 0; k < n; k++) {
      int to = k == n - 1 ? message.length : from + r.nextInt(message.length - from + 1);
      byte[] part = new byte[to - from];
      System.arraycopy(message, from, part, 0, part.length);
      b.writeBytes(frame(k == n - 1, 0, k == 0 ? opcode : 0x0, true, part, r));
      if (pings && k < n - 1 && r.nextBoolean()) {
        b.writeBytes(frame(true, 0, 0x9, true, randomBytes(r, r.nextInt(20)), r)); // control frames may come between fragments
      }
      from = to;
    }
    return b.toByteArray();
  }

  /** A heartbeat of exactly {@code size} bytes. */
  private static byte[] paddedHeartbeat(int size) {
    String head = "{\"type\":\"heartbeat\",\"pad\":\"";
    String tail = "\"}";
    return (head + "x".repeat(size - head.length() - tail.length()) + tail).getBytes(StandardCharsets.UTF_8);
  }

  /** Valid text around one invalid UTF-8 sequence. */
  private static byte[] withInvalidUtf8(Random r) {
    byte[][] invalid = {
        {(byte) 0x80}, {(byte) 0xBF}, {(byte) 0xC0, (byte) 0xAF}, {(byte) 0xC1, (byte) 0xBF}, {(byte) 0xE0, (byte) 0x80, (byte) 0xAF},
        {(byte) 0xED, (byte) 0xA0, (byte) 0x80}, {(byte) 0xED, (byte) 0xBF, (byte) 0xBF}, {(byte) 0xF4, (byte) 0x90, (byte) 0x80, (byte) 0x80},
        {(byte) 0xF5, (byte) 0x80, (byte) 0x80, (byte) 0x80}, {(byte) 0xFE}, {(byte) 0xFF}, {(byte) 0xC3, (byte) 0x28},
        {(byte) 0xE2, (byte) 0x28, (byte) 0xA1}, {(byte) 0xF0, (byte) 0x28, (byte) 0x8C, (byte) 0x28}};
    byte[] bad = invalid[r.nextInt(invalid.length)];
    return concat(concat("{\"type\":\"x".getBytes(StandardCharsets.UTF_8), bad), "\"}".getBytes(StandardCharsets.UTF_8));
  }

  /** Random JSON-ish client text: mostly request-shaped, sometimes broken. */
  private static String randomJsonish(Random r) {
    String channel = pick(r, "BTC.trade", "ETH.liquidity", "SOL.metadata", "BTC.*", "*.trade", "nodot", ".trade", "A B.trade",
        "x".repeat(129) + ".trade", "BTC.nosuch", "\\u0000.trade", "\\ud800.trade", "\u00e9.trade", "\uD83D\uDE00.social", "");
    String offset = pick(r, "\"3:1042\"", "1042", "-1", "\"x\"", "null", "[]", "{}", "1e999", "\"99:99\"", "9".repeat(30));
    switch (r.nextInt(16)) {
      case 0:
        return "{\"type\":\"subscribe\",\"data\":{\"channels\":[\"" + channel + "\"]}}";
      case 1: {
        StringBuilder many = new StringBuilder("{\"type\":\"subscribe\",\"data\":{\"channels\":[");
        int n = r.nextInt(1200);
        for (int k = 0; k < n; k++) {
          many.append(k > 0 ? "," : "").append("\"T").append(k).append(".trade\"");
        }
        return many.append("]}}").toString();
      }
      case 2:
        return "{\"type\":\"unsubscribe\",\"data\":{\"channels\":[\"" + channel + "\"]}}";
      case 3:
        return "{\"type\":\"reconnect\",\"data\":{\"client_id\":\"c-" + r.nextInt(100) + "\",\"last_offset\":{\"" + channel + "\":" + offset + "}}}";
      case 4:
        return "{\"type\":\"reconnect\",\"data\":{\"last_offset\":{\"odin.trades\":" + offset + "}}}";
      case 5:
        return "{\"type\":\"subscribe\",\"data\":{\"channels\":[\"" + channel + "\"],\"last_offset\":{\"" + channel + "\":" + offset + "}}}";
      case 6:
        return "{\"type\":" + pick(r, "1", "null", "[]", "{}", "\"\"", "\"teleport\"", "\"SUBSCRIBE\"", "true") + "}";
      case 7:
        return "{\"type\":\"subscribe\",\"data\":" + pick(r, "1", "\"x\"", "[]", "null", "{\"channels\":\"BTC.trade\"}", "{\"channels\":[1,null]}") + "}";
      case 8:
        return "[".repeat(1 + r.nextInt(2000)) + "]".repeat(r.nextInt(2000));
      case 9:
        return "{\"type\":\"heartbeat\",\"x\":" + "{\"a\":".repeat(r.nextInt(1100)) + "1" + "}".repeat(r.nextInt(1100)) + "}";
      case 10:
        return "{\"type\":\"reconnect\",\"data\":{\"client_id\":" + "9".repeat(r.nextInt(2000)) + "1,\"last_offset\":{}}}";
      case 11:
        return "{\"type\":\"heartbeat\",\"type\":\"subscribe\",\"data\":{\"channels\":[\"BTC.trade\"]},\"data\":null}";
      case 12:
        return randomUnicode(r, r.nextInt(200));
      case 13: {
        String valid = "{\"type\":\"subscribe\",\"data\":{\"channels\":[\"" + channel + "\"]}}";
        int at = r.nextInt(valid.length());
        return valid.substring(0, at) + pick(r, "", "\"", "{", "}", ",", "null", "\\") + valid.substring(Math.min(valid.length(), at + r.nextInt(3)));
      }
      case 14:
        return "{\"type\":\"subscribe\",\"data\":{\"channels\":[\"" + "\\\"".repeat(r.nextInt(50)) + "\"]}}";
      default:
        return "{\"type\":\"" + pick(r, "heartbeat", "unsubscribe", "reconnect", "pong", "error") + "\"}";
    }
  }

  // =====================================================================================
  // (c) afterwards: healthy, no unexpected exception
  // =====================================================================================

  /**
   * Every fuzz socket of this test is gone, the server still serves, and nothing it did raised an exception.
   *
   * @param clientVertx the test's own, closed by VertxExtension after it
   */
  private void assertHealthyAfterwards(TestInfo test, Vertx clientVertx) throws Exception {
    // every fuzz socket is gone from the server (none stuck half closed)
    Await.until("every fuzz connection closed on the server", Duration.ofSeconds(30),
        () -> java.util.Arrays.stream(server.connectionsPerShard()).sum() == 0, UpgradeFuzzTest::openConnections);

    WebSocketClient wsClient = clientVertx.createWebSocketClient();
    WsTestClient c = WsTestClient.open(wsClient, server.port());
    JsonObject ack = c.subscribe("FUZZ.trade");
    assertEquals(List.of("FUZZ.trade"), ack.getJsonArray("subscribed").getList());
    String marker = "fuzz-" + SEED + "-" + test.getTestMethod().orElseThrow().getName();
    try (KafkaProducer<String, String> producer = OdinTopics.producer(kafka.bootstrap())) {
      producer.send(new ProducerRecord<>(OdinTopics.TRADES, "FUZZ", "{\"type\":\"TRADE_EXECUTED\",\"marker\":\"" + marker + "\"}")).get(10, TimeUnit.SECONDS);
    }
    Await.until("the record produced after the fuzzing is delivered", Duration.ofSeconds(20), () -> !c.data().isEmpty());
    JsonObject data = c.data().get(0).json();
    assertEquals("FUZZ.trade", data.getString("channel"));
    assertEquals(marker, data.getJsonObject("data").getString("marker"));
    c.close();

    long errors = connectionErrors() - connectionErrorsBefore;
    StringBuilder report = new StringBuilder("connectionErrors (sum over shards, during this test) = " + errors);
    // one entry per exception type: how often, the first stack trace, and the inputs that caused it
    Map<String, List<FuzzLogCapture.Event>> byError = logs.matching("event=connection_error").stream()
        .collect(Collectors.groupingBy(e -> e.message().replaceAll("(?s).*error=\"([^\":]*).*", "$1"), TreeMap::new, Collectors.toList()));
    byError.forEach((error, events) -> {
      report.append("\n=== ").append(events.size()).append(" x ").append(error).append("\n").append(events.get(0));
      Map<String, Integer> byInputKind = new TreeMap<>();
      List<String> examples = new ArrayList<>();
      for (FuzzLogCapture.Event e : events) {
        String input = inputByLocalPort.getOrDefault(e.remotePort(), "(unknown port " + e.remotePort() + ")");
        String inputKind = input.replaceAll("(?s)^(WS case) #\\d+ \\(seed \\d+\\) units (\\[[^]]*\\]).*", "$1 $2")
            .replaceAll("(?s)^(HTTP case) #\\d+ (\\[[^]]*\\] [^:(']*).*", "$1 $2");
        if (byInputKind.merge(inputKind, 1, Integer::sum) == 1 && examples.size() < 6) {
          examples.add(input);
        }
      }
      report.append("\n    inputs: ").append(byInputKind);
      examples.forEach(input -> report.append("\n    e.g. ").append(input));
    });
    List<FuzzLogCapture.Event> otherWarnings = logs.events.stream()
        .filter(e -> !e.message().contains("event=connection_error")).toList();
    report.append("\nother WARN/ERROR events: ").append(otherWarnings.size());
    otherWarnings.stream().limit(5).forEach(e -> report.append("\n--- ").append(e));
    System.out.println("UpgradeFuzzTest health: " + report);
    assertEquals(0, errors, "unexpected exceptions while fuzzing (each one is a server bug): " + report);
  }

  private static long connectionErrors() {
    return server.slots().stream().mapToLong(s -> s.stats().connectionErrors()).sum();
  }

  private static String openConnections() {
    StringBuilder sb = new StringBuilder("still open: ").append(java.util.Arrays.toString(server.connectionsPerShard()));
    for (ShardVerticle shard : server.server.shardVerticles()) {
      try {
        for (Channel ch : shard.channels().await(5, TimeUnit.SECONDS)) {
          int remote = ch.remoteAddress() instanceof InetSocketAddress a ? a.getPort() : -1;
          sb.append("\n  ").append(ch).append(" from ").append(inputByLocalPort.getOrDefault(remote, "(not a fuzz socket)"));
        }
      } catch (Exception e) {
        sb.append("\n  (cannot list shard ").append(shard.id()).append(": ").append(e).append(')');
      }
    }
    return sb.toString();
  }

  // =====================================================================================
  // helpers
  // =====================================================================================

  /** Runs {@code n} cases, {@link #PARALLEL} at a time; each case bounds its own time. */
  private static List<Outcome> runAll(int n, IntFunction<Outcome> task) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(PARALLEL);
    try {
      List<Future<Outcome>> futures = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        int k = i;
        futures.add(pool.submit(() -> task.apply(k)));
      }
      List<Outcome> out = new ArrayList<>();
      for (Future<Outcome> f : futures) {
        out.add(f.get(OUTCOME_WITHIN_MS * 4L, TimeUnit.MILLISECONDS));
      }
      return out;
    } finally {
      pool.shutdownNow();
    }
  }

  /** Outcome histogram overall and per kind, with the slowest time per outcome. */
  private static String report(String title, List<Outcome> outcomes) {
    Map<String, Integer> overall = new TreeMap<>();
    Map<String, Long> slowest = new TreeMap<>();
    Map<String, Map<String, Integer>> byKind = new TreeMap<>();
    for (Outcome o : outcomes) {
      String outcome = o.outcome().replaceAll("\\(after .*\\)", "(after errors)");
      overall.merge(outcome, 1, Integer::sum);
      slowest.merge(outcome, o.millis(), Math::max);
      byKind.computeIfAbsent(o.kind(), k -> new TreeMap<>()).merge(outcome, 1, Integer::sum);
    }
    StringBuilder sb = new StringBuilder(title + ": " + outcomes.size() + " connections\n  outcomes: " + overall
        + "\n  slowest ms per outcome: " + slowest + "\n  by kind:");
    byKind.forEach((k, h) -> sb.append("\n    ").append(k).append(": ").append(h));
    return sb.toString();
  }

  private static String pick(Random r, String... options) {
    return options[r.nextInt(options.length)];
  }

  private static String randomToken(Random r, int len) {
    StringBuilder sb = new StringBuilder();
    for (int k = 0; k < len; k++) {
      sb.append((char) ('!' + r.nextInt(94)));
    }
    return sb.toString();
  }

  /** Random bytes 0..255 as ISO-8859-1 characters (so {@link #request} writes them back as the same bytes). */
  private static String randomBytesAsLatin1(Random r, int len) {
    StringBuilder sb = new StringBuilder();
    for (int k = 0; k < len; k++) {
      sb.append((char) r.nextInt(256));
    }
    return sb.toString();
  }

  private static String randomUnicode(Random r, int len) {
    StringBuilder sb = new StringBuilder();
    for (int k = 0; k < len; k++) {
      switch (r.nextInt(4)) {
        case 0 -> sb.append((char) (0x20 + r.nextInt(0x5F)));
        case 1 -> sb.append((char) r.nextInt(0x20));
        case 2 -> sb.appendCodePoint(0x80 + r.nextInt(0xD800 - 0x80));
        default -> sb.appendCodePoint(0x10000 + r.nextInt(0x100000));
      }
    }
    return sb.toString();
  }

  private static String insertRandom(Random r, String s, int n) {
    StringBuilder sb = new StringBuilder(s);
    for (int k = 0; k < n; k++) {
      sb.insert(r.nextInt(sb.length() + 1), (char) r.nextInt(256));
    }
    return sb.toString();
  }

  private static byte[] randomBytes(Random r, int len) {
    byte[] b = new byte[len];
    r.nextBytes(b);
    return b;
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] out = new byte[a.length + b.length];
    System.arraycopy(a, 0, out, 0, a.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }

  private static byte[] splice(byte[] b, int at, int remove, byte[] insert) {
    byte[] out = new byte[b.length - remove + insert.length];
    System.arraycopy(b, 0, out, 0, at);
    System.arraycopy(insert, 0, out, at, insert.length);
    System.arraycopy(b, at + remove, out, at + insert.length, b.length - at - remove);
    return out;
  }

  /** Bytes for a failure message: printable ASCII as is, the rest escaped; long inputs abbreviated. */
  static String show(byte[] bytes) {
    StringBuilder sb = new StringBuilder();
    int limit = Math.min(bytes.length, 400);
    for (int k = 0; k < limit; k++) {
      int b = bytes[k] & 0xFF;
      if (b == '\r') {
        sb.append("\\r");
      } else if (b == '\n') {
        sb.append("\\n");
      } else if (b >= 0x20 && b < 0x7F && b != '\\') {
        sb.append((char) b);
      } else {
        sb.append(String.format("\\x%02x", b));
      }
    }
    if (bytes.length > limit) {
      sb.append("…(").append(bytes.length).append(" bytes in all)");
    }
    return sb.toString();
  }
}
