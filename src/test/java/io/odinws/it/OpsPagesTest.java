package io.odinws.it;

import io.odinws.config.PagesConfig;
import io.odinws.testkit.Await;
import io.odinws.testkit.EmbeddedKafka;
import io.odinws.testkit.KafkaBrokerExtension;
import io.odinws.testkit.OdinTopics;
import io.odinws.testkit.Paced;
import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 16's pages on the operations port, against a real server and broker: the operator snapshot's fields and
 * numbers while records flow to a subscribed WebSocket, its Server-Sent Events stream (bounded, freed when a reader
 * goes), the market page's configuration, the static pages, and none of it on the public port or carrying a secret.
 */
@ExtendWith(KafkaBrokerExtension.class)
class OpsPagesTest {

  private static final Duration WITHIN = Duration.ofSeconds(60);
  private static final byte[] SECRET = "ops-pages-test-secret-that-must-never-be-shown-0123456789".getBytes(StandardCharsets.US_ASCII);

  private static EmbeddedKafka kafka;
  private static ServerHarness server;
  private static Path secretFile;
  private static Vertx vertx;
  private static WebSocketClient ws;
  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

  @BeforeAll
  static void start(EmbeddedKafka broker, @TempDir Path dir) throws Exception {
    kafka = broker;
    OdinTopics.createAll(kafka);
    secretFile = Files.write(dir.resolve("jwt-secret"), SECRET);
    server = ServerHarness.start(kafka, new JsonObject().put("mode", "multi").put("shards", 2)
        .put("auth", new JsonObject().put("mode", "optional").put("hmacSecretFile", secretFile.toString())));
    vertx = Vertx.vertx();
    ws = vertx.createWebSocketClient();
  }

  @AfterAll
  static void stop() throws Exception {
    if (vertx != null) {
      vertx.close().await(30, TimeUnit.SECONDS);
    }
    if (server != null) {
      server.close();
    }
  }

  @Test
  void theOperatorSnapshotHasTheContractsFieldsAndItsNumbersMoveWhileRecordsFlow() throws Exception {
    try (WsTestClient client = WsTestClient.open(ws, server.port()); Producing producing = new Producing("BTC")) {
      client.subscribe("BTC.trade");
      AtomicReference<JsonObject> last = new AtomicReference<>();
      Await.until("deliveries, Kafka records and latency in the last second's snapshot", WITHIN, Duration.ofMillis(200), () -> {
        JsonObject s = new JsonObject(get(ops(), "/api/operator").body());
        last.set(s);
        return s.getDouble("deliveriesPerSecond") > 0 && s.getJsonObject("kafka").getDouble("recordsPerSecond") > 0
            && s.getJsonObject("latencyMs").getDouble("p50") > 0 && s.getJsonObject("latencyMs").getDouble("max") > 0;
      }, () -> String.valueOf(last.get()));
      JsonObject s = last.get();
      assertEquals(Set.of("ts", "uptimeSeconds", "connections", "shards", "deliveriesPerSecond", "kafka", "latencyMs",
          "slowClientCloses", "rejections", "disconnects"), s.fieldNames());
      assertTrue(s.getLong("connections") >= 1, s.encode());
      JsonArray shards = s.getJsonArray("shards");
      assertEquals(2, shards.size(), s.encode());
      long subscriptions = 0;
      for (int i = 0; i < shards.size(); i++) {
        JsonObject shard = shards.getJsonObject(i);
        assertEquals(Set.of("id", "connections", "websockets", "subscriptions"), shard.fieldNames());
        subscriptions += shard.getLong("subscriptions");
      }
      assertTrue(subscriptions >= 1, "the client's subscription is counted: " + s.encode());
      JsonObject kafkaStats = s.getJsonObject("kafka");
      assertTrue(kafkaStats.getBoolean("connected"), s.encode());
      assertNotNull(kafkaStats.getLong("lag"));
      JsonObject latency = s.getJsonObject("latencyMs");
      assertEquals(Set.of("p50", "p90", "p99", "max"), latency.fieldNames());
      assertTrue(latency.getDouble("p50") <= latency.getDouble("p90") && latency.getDouble("p90") <= latency.getDouble("p99")
          && latency.getDouble("p99") <= latency.getDouble("max"), latency.encode());
      assertTrue(s.getJsonObject("rejections").fieldNames().containsAll(Set.of("full", "shutting_down", "cpu", "heap", "ip_rate",
          "global_rate", "ip_connections", "origin", "auth_signature", "auth_expired", "subscription_private")), s.encode());
      assertTrue(s.getJsonObject("disconnects").containsKey("client_close"), s.encode());
    }
  }

  @Test
  void theStreamSendsASnapshotEverySecondAndFreesItsPlaceWhenTheReaderGoes() throws Exception {
    List<JsonObject> events = new CopyOnWriteArrayList<>();
    try (Socket reader = openStream()) {
      Thread t = new Thread(() -> readEvents(reader, events), "sse-reader");
      t.setDaemon(true);
      t.start();
      Await.until("three snapshots on the stream", WITHIN, () -> events.size() >= 3, () -> events.size() + " events");
    }
    for (int i = 1; i < events.size(); i++) {
      assertTrue(events.get(i).getLong("ts") > events.get(i - 1).getLong("ts"), "a new snapshot each time: " + events);
    }
    // 16 streams at most; the one over is refused, and a reader that goes frees its place
    List<Socket> held = new ArrayList<>();
    try {
      Await.until("16 streams open (the first test's may still be closing)", WITHIN, () -> {
        Socket s = openStreamStatus();
        if (s == null) {
          return false;
        }
        held.add(s);
        return held.size() == 16;
      });
      assertEquals(503, status(rawGet(ops(), "/api/operator/stream", "127.0.0.1")), "the 17th stream is refused");
      held.remove(0).close();
      Await.until("a place freed by the reader that went", WITHIN, () -> {
        Socket s = openStreamStatus();
        if (s == null) {
          return false;
        }
        held.add(s);
        return true;
      });
    } finally {
      for (Socket s : held) {
        s.close();
      }
    }
  }

  @Test
  void theMarketPageIsToldThePublicPortOnTheHostTheBrowserUsed() throws Exception {
    HttpResponse<String> r = get(ops(), "/api/pages/config");
    assertEquals(200, r.statusCode(), r.body());
    JsonObject config = new JsonObject(r.body());
    assertEquals("ws://127.0.0.1:" + server.port() + "/ws", config.getString("wsUrl"));
    assertEquals(new JsonArray(PagesConfig.DEMO_TOKENS), config.getJsonArray("tokens"));
    assertEquals(20, config.getJsonArray("tokens").size(), "the demo publisher's 20 tokens");

    assertEquals("ws://odin.example.com:" + server.port() + "/ws", wsUrl("odin.example.com:" + ops()));
    assertEquals("ws://[::1]:" + server.port() + "/ws", wsUrl("[::1]:" + ops()));
    assertEquals(400, status(rawGet(ops(), "/api/pages/config", "bad\"host/x?y:1")), "a malformed Host never makes a URL");
  }

  @Test
  void theRootRedirectsToTheMarketPageAndThePagesAreServedOnceBuilt() throws Exception {
    HttpResponse<String> root = get(ops(), "/");
    assertEquals(302, root.statusCode());
    assertEquals("/market/", root.headers().firstValue("Location").orElse(""));
    HttpResponse<String> bare = get(ops(), "/operator");
    assertEquals(301, bare.statusCode(), "relative asset URLs need the trailing slash");
    assertEquals("/operator/", bare.headers().firstValue("Location").orElse(""));

    boolean built = getClass().getClassLoader().getResource("webroot/market/index.html") != null;
    for (String path : List.of("/market/", "/operator/", "/sdk/odin-ws.min.js")) {
      HttpResponse<String> page = get(ops(), path);
      if (built) {
        assertEquals(200, page.statusCode(), path);
        assertEquals("no-cache", page.headers().firstValue("Cache-Control").orElse(""), path);
        assertTrue(page.headers().firstValue("Last-Modified").isPresent(), path + ": revalidated with If-Modified-Since");
        String type = page.headers().firstValue("Content-Type").orElse("");
        assertTrue(path.endsWith(".js") ? type.contains("javascript") : type.startsWith("text/html"), path + ": " + type);
      } else {
        System.out.println("OpsPagesTest: webroot/ is not on the class path (no npm at build time): checking the 404 instead");
        assertEquals(404, page.statusCode(), path);
        assertTrue(page.body().startsWith("pages not built: build with Node 20+ and npm"), page.body());
      }
    }
    assertEquals(404, get(ops(), "/market/no-such-file.js").statusCode());
  }

  @Test
  void noneOfItIsOnThePublicPort() {
    for (String path : List.of("/", "/market/", "/market/index.html", "/operator/", "/sdk/odin-ws.min.js", "/api/pages/config",
        "/api/operator", "/api/operator/stream")) {
      assertEquals(404, get(server.port(), path).statusCode(), "public port: " + path);
    }
  }

  @Test
  void theSnapshotHoldsOnlyNumbersAndNoConfiguredValue() {
    String body = get(ops(), "/api/operator").body();
    JsonObject s = new JsonObject(body);
    assertOnlyNumbers("", s);
    for (String secret : List.of(new String(SECRET, StandardCharsets.US_ASCII), secretFile.toString(), secretFile.getFileName().toString(),
        kafka.bootstrap(), "127.0.0.1", "odin.trades")) {
      assertFalse(body.contains(secret), "the snapshot shows " + secret + ": " + body);
    }
  }

  @Test
  void pagesOffLeavesTheOperationsPortToHealthAndMetrics() throws Exception {
    try (ServerHarness off = ServerHarness.start(kafka, new JsonObject().put("mode", "single")
        .put("pages", new JsonObject().put("enabled", false)))) {
      int port = off.server.opsPort();
      for (String path : List.of("/", "/market/", "/sdk/odin-ws.min.js", "/api/pages/config", "/api/operator", "/api/operator/stream")) {
        assertEquals(404, get(port, path).statusCode(), "pages off: " + path);
      }
      assertEquals(200, get(port, "/health/live").statusCode());
    }
  }

  // ---- helpers ------------------------------------------------------------------------------------------------

  private static int ops() {
    return server.server.opsPort();
  }

  /** Every leaf a number or a boolean: no name, address, path or token can hide in a string. */
  private static void assertOnlyNumbers(String at, Object node) {
    if (node instanceof JsonObject o) {
      o.forEach(e -> assertOnlyNumbers(at + "." + e.getKey(), e.getValue()));
    } else if (node instanceof JsonArray a) {
      for (int i = 0; i < a.size(); i++) {
        assertOnlyNumbers(at + "[" + i + "]", a.getValue(i));
      }
    } else {
      assertTrue(node instanceof Number || node instanceof Boolean, at + " = " + node);
    }
  }

  private static HttpResponse<String> get(int port, String path) {
    try {
      return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).timeout(Duration.ofSeconds(30)).build(),
          HttpResponse.BodyHandlers.ofString());
    } catch (Exception e) {
      throw new AssertionError("GET " + path + " on port " + port + ": " + e, e);
    }
  }

  /** /api/pages/config's wsUrl for a request carrying {@code host} (the JDK's client will not send any Host). */
  private static String wsUrl(String host) throws Exception {
    try (Socket s = rawGet(ops(), "/api/pages/config", host)) {
      BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
      String line;
      String body = null;
      while ((line = in.readLine()) != null) {
        if (line.startsWith("{")) {
          body = line;
          break;
        }
      }
      assertNotNull(body, "no JSON body for Host " + host);
      return new JsonObject(body).getString("wsUrl");
    }
  }

  private static Socket rawGet(int port, String path, String host) throws Exception {
    Socket s = new Socket("127.0.0.1", port);
    s.setSoTimeout(30_000);
    OutputStream out = s.getOutputStream();
    out.write(("GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\nAccept: */*\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
    out.flush();
    return s;
  }

  /** The status code of the response on {@code s}, which is then closed. */
  private static int status(Socket s) throws Exception {
    try (s) {
      String line = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.ISO_8859_1)).readLine();
      return Integer.parseInt(line.split(" ")[1]);
    }
  }

  private static Socket openStream() throws Exception {
    return rawGet(ops(), "/api/operator/stream", "127.0.0.1:" + ops());
  }

  /** A stream that answered 200 (kept open), or null after a refusal. */
  private static Socket openStreamStatus() {
    try {
      Socket s = openStream();
      // one byte at a time: the status line, without buffering any of the events after it
      StringBuilder line = new StringBuilder();
      int c;
      while ((c = s.getInputStream().read()) != -1 && c != '\n') {
        line.append((char) c);
      }
      if (line.toString().startsWith("HTTP/1.1 200")) {
        return s;
      }
      s.close();
      return null;
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  private static void readEvents(Socket s, List<JsonObject> events) {
    try {
      BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
      String line;
      while ((line = in.readLine()) != null) {
        if (line.startsWith("data: ")) {
          events.add(new JsonObject(line.substring("data: ".length())));
        }
      }
    } catch (Exception e) {
      // the socket was closed by the test
    }
  }

  /** Trade records for {@code token}, a batch of ten every 50 ms, until closed. */
  private static final class Producing implements AutoCloseable {
    private final KafkaProducer<String, String> producer = OdinTopics.producer(kafka.bootstrap());
    private final Paced traffic;

    Producing(String token) {
      traffic = Paced.every(Duration.ofMillis(50), "ops-pages-producer", tick -> {
        for (long i = 10 * tick; i < 10 * tick + 10; i++) {
          producer.send(new ProducerRecord<>(OdinTopics.TRADES, token,
              "{\"type\":\"TRADE_EXECUTED\",\"timestamp\":" + System.currentTimeMillis() + ",\"data\":{\"i\":" + i + "}}"));
        }
        producer.flush();
      });
    }

    @Override
    public void close() throws InterruptedException {
      try {
        traffic.close();
      } finally {
        producer.close();
      }
    }
  }
}
