package io.odinws.it;

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
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What a client of the Go server, and a WebSocket client that tests the edges of RFC 6455, see of a
 * real server (docs/protocol.md, "Differences from the Go server"): CORS on health on both ports, the
 * Go server's health fields, the replay request's own error, close frames answered per RFC 6455 7.4,
 * and 400 for a plain request to /ws.
 */
@ExtendWith({KafkaBrokerExtension.class, VertxExtension.class})
class DropInTest {

  private static final Duration TIMEOUT = Duration.ofSeconds(30);
  /** Distinct from any default, so that the health report is seen to read it; high, so the guard never trips here. */
  private static final double CPU_THRESHOLD = 99.5;

  private static ServerHarness server;
  private static WebSocketClient wsClient;
  private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(TIMEOUT).build();

  @BeforeAll
  @Timeout(value = 120, timeUnit = TimeUnit.SECONDS)
  static void start(EmbeddedKafka kafka, Vertx vertx, VertxTestContext ctx) {
    OdinTopics.createAll(kafka);
    JsonObject conf = new JsonObject().put("mode", "multi").put("shards", 2)
        .put("admission", new JsonObject().put("cpuRejectPercent", CPU_THRESHOLD));
    ServerHarness.deploy(kafka, conf).onComplete(ctx.succeeding(h -> {
      server = h;
      ctx.completeNow();
    }));
    wsClient = vertx.createWebSocketClient(); // VertxExtension closes its Vert.x after the class
  }

  @AfterAll
  static void stop(VertxTestContext ctx) {
    ServerHarness.stop(server).onComplete(ctx.succeedingThenComplete());
  }

  // ---- CORS ------------------------------------------------------------------------------

  @Test
  void healthAnswersCorsAndOptionsOnBothPorts() throws Exception {
    int ops = server.server.opsPort();
    assertTrue(ops > 0, "the operations port is on");
    for (int port : new int[] {server.port(), ops}) {
      for (String path : new String[] {"/health", "/health/live", "/health/ready"}) {
        HttpResponse<String> get = send(HttpRequest.newBuilder(uri(port, path)).header("Origin", "https://status.example"));
        assertEquals(200, get.statusCode(), port + path + " " + get.body());
        assertEquals("*", header(get, "access-control-allow-origin"), port + path);

        HttpResponse<String> preflight = send(HttpRequest.newBuilder(uri(port, path))
            .method("OPTIONS", HttpRequest.BodyPublishers.noBody())
            .header("Origin", "https://status.example").header("Access-Control-Request-Method", "GET"));
        assertEquals(200, preflight.statusCode(), "OPTIONS " + port + path);
        assertEquals("*", header(preflight, "access-control-allow-origin"));
        assertTrue(header(preflight, "access-control-allow-methods").contains("GET"), header(preflight, "access-control-allow-methods"));
        assertFalse(header(preflight, "access-control-allow-headers").isEmpty());
        assertEquals("", preflight.body());
      }
      HttpResponse<String> metrics = send(HttpRequest.newBuilder(uri(port, "/metrics")));
      assertEquals(200, metrics.statusCode());
      assertEquals("", header(metrics, "access-control-allow-origin"), "/metrics keeps same-origin on port " + port);
    }
  }

  // ---- health fields ---------------------------------------------------------------------

  @Test
  void healthCarriesTheGoServersExtraFields() throws Exception {
    try (WsTestClient c = WsTestClient.open(wsClient, server.port())) {
      c.subscribe("BTC.trade");
      for (int port : new int[] {server.port(), server.server.opsPort()}) {
        JsonObject h = new JsonObject(send(HttpRequest.newBuilder(uri(port, "/health"))).body());
        JsonObject checks = h.getJsonObject("checks");
        for (String check : new String[] {"capacity", "cpu", "memory", "kafka"}) {
          assertEquals(Boolean.TRUE, checks.getJsonObject(check).getBoolean("healthy"), check + ": " + h.encode());
        }
        assertEquals(CPU_THRESHOLD, checks.getJsonObject("cpu").getDouble("threshold"), h.encode());
        assertNotNull(checks.getJsonObject("cpu").getDouble("percentage"), "existing fields stay");
        assertNotNull(checks.getJsonObject("cpu").getDouble("shard_loops_percentage"), "what the guard compares: " + h.encode());
        JsonArray shards = h.getJsonArray("shards");
        assertEquals(2, shards.size());
        int sockets = 0;
        for (int i = 0; i < shards.size(); i++) {
          JsonObject s = shards.getJsonObject(i);
          int connections = s.getInteger("connections");
          int max = s.getInteger("max_connections");
          sockets += connections;
          assertEquals(max - connections, s.getInteger("available_slots"), s.encode());
          assertEquals(Math.round(1000.0 * connections / max) / 10.0, s.getDouble("utilization"), 1e-9, s.encode());
          assertEquals("available", s.getString("status"), "existing fields stay");
        }
        assertTrue(sockets >= 1, "the WebSocket is counted: " + h.encode());
      }
    }
  }

  // ---- the replay request ----------------------------------------------------------------

  @Test
  void theGoServersReplayRequestGetsItsOwnErrorAndTheConnectionStaysOpen() throws Exception {
    try (WsTestClient c = WsTestClient.open(wsClient, server.port())) {
      JsonObject error = c.request("{\"type\":\"replay\",\"data\":{\"from\":10,\"to\":20}}", "error");
      assertEquals("REPLAY_UNSUPPORTED", error.getString("code"), error.encode());
      assertTrue(error.getString("message").contains("\"type\":\"reconnect\""), error.getString("message"));
      assertTrue(error.getString("message").contains("last_offset"), error.getString("message"));
      assertEquals("pong", c.request("{\"type\":\"heartbeat\"}", "pong").getString("type"));
      assertNull(c.closeCode, "still open");
    }
  }

  // ---- close frames on a real socket -----------------------------------------------------

  @Test
  void closeFramesAreAnsweredPerRfc6455OnARealSocket() throws Exception {
    assertCloseAnswer(closePayload(5000, "bye"), 1002);
    assertCloseAnswer(closePayload(65535, ""), 1002);
    assertCloseAnswer(closePayload(999, ""), 1002);
    assertCloseAnswer(closePayload(1005, ""), 1002);
    assertCloseAnswer(new byte[] {0x03}, 1002);
    byte[] badReason = closePayload(1000, "ok");
    byte[] withBad = new byte[badReason.length + 2];
    System.arraycopy(badReason, 0, withBad, 0, badReason.length);
    withBad[badReason.length] = (byte) 0xC0;
    withBad[badReason.length + 1] = (byte) 0x80;
    assertCloseAnswer(withBad, 1007);
    assertCloseAnswer(closePayload(4000, "app"), 4000);
    assertCloseAnswer(closePayload(1000, ""), 1000);
    assertCloseAnswer(new byte[0], -1); // an empty close, answered with an empty close
  }

  /** Sends one close frame; the server must answer with one close frame carrying {@code code}, then close the socket. */
  private static void assertCloseAnswer(byte[] payload, int code) throws IOException {
    try (RawWsClient c = RawWsClient.connect(server.port())) {
      c.send(0x8, true, payload);
      RawWsClient.Frame close = c.read();
      assertNotNull(close, "a close frame, not only a FIN, for payload " + java.util.HexFormat.of().formatHex(payload));
      assertEquals(0x8, close.opcode(), "a close frame");
      assertEquals(code, close.closeCode(), "answer to payload " + java.util.HexFormat.of().formatHex(payload));
      if (code == -1) {
        assertEquals(0, close.payload().length, "empty");
      }
      assertNull(c.read(), "the server closes the socket after its close frame");
    }
  }

  private static byte[] closePayload(int code, String reason) {
    byte[] r = reason.getBytes(StandardCharsets.UTF_8);
    byte[] p = new byte[2 + r.length];
    p[0] = (byte) (code >> 8);
    p[1] = (byte) code;
    System.arraycopy(r, 0, p, 2, r.length);
    return p;
  }

  // ---- plain HTTP to /ws -----------------------------------------------------------------

  @Test
  void aPlainGetOrPostToTheWebSocketPathGets400SayingHowToConnect() throws Exception {
    HttpResponse<String> get = send(HttpRequest.newBuilder(uri(server.port(), "/ws")));
    HttpResponse<String> post = send(HttpRequest.newBuilder(uri(server.port(), "/ws")).POST(HttpRequest.BodyPublishers.ofString("{}")));
    for (HttpResponse<String> r : new HttpResponse[] {get, post}) {
      assertEquals(400, r.statusCode(), r.body());
      assertTrue(r.headers().firstValue("content-type").orElse("").startsWith("text/plain"));
      assertEquals("Bad Request: not a WebSocket handshake (connect with a WebSocket client to /ws)\n", r.body());
    }
  }

  // ---- helpers ---------------------------------------------------------------------------

  private HttpResponse<String> send(HttpRequest.Builder request) throws Exception {
    return http.send(request.timeout(TIMEOUT).build(), HttpResponse.BodyHandlers.ofString());
  }

  private static URI uri(int port, String path) {
    return URI.create("http://127.0.0.1:" + port + path);
  }

  private static String header(HttpResponse<?> r, String name) {
    return r.headers().firstValue(name).orElse("");
  }
}
