package io.odinws.it;

import io.odinws.testkit.Await;
import io.odinws.testkit.EmbeddedKafka;
import io.odinws.testkit.KafkaBrokerExtension;
import io.odinws.testkit.OdinTopics;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What the refusal counters count, read from a real server's /metrics: {@code ws_capacity_rejections_total} only
 * the refusals sent (not the probes a full server answers, nor a socket that sends nothing), and
 * {@code ws_connections_failed_total} every upgrade refused or malformed, as README's metrics table says.
 */
@ExtendWith(KafkaBrokerExtension.class)
class RejectionMetricsTest {

  private static EmbeddedKafka kafka;
  private ServerHarness server;

  @BeforeAll
  static void topics(EmbeddedKafka broker) {
    kafka = broker;
    OdinTopics.createAll(kafka);
  }

  @AfterEach
  void stop() throws Exception {
    if (server != null) {
      server.close();
    }
  }

  @Test
  void aFullServerCountsTheUpgradesItRefusesNotTheProbesItAnswers() throws Exception {
    server = ServerHarness.start(kafka, new JsonObject().put("mode", "single").put("maxConnections", 1));
    try (RawWsClient held = RawWsClient.connect(server.port())) {
      Await.until("the one slot taken", Duration.ofSeconds(10), () -> server.connectionsPerShard()[0] == 1);
      for (String probe : new String[] {"/health", "/health/live", "/metrics"}) {
        String answer = exchange("GET " + probe + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
        assertTrue(answer.startsWith("HTTP/1.1 200"), probe + " answered on a full server: " + firstLine(answer));
      }
      try (Socket silent = new Socket("127.0.0.1", server.port())) {
        silent.getOutputStream().flush(); // connects, sends nothing, leaves
      }
      String refused = exchange(RawWsClient.UPGRADE_HEADERS + "\r\n");
      assertTrue(refused.startsWith("HTTP/1.1 503"), firstLine(refused));
      assertTrue(refused.contains("Server overloaded"), refused);

      String metrics = opsMetrics();
      assertEquals(1, metric(metrics, "ws_capacity_rejections_total", "reason=\"full\""), "one refusal sent");
      assertEquals(1, metric(metrics, "ws_connections_failed_total", null), "the refused upgrade is a failed one");
      assertEquals(0, metric(metrics, "ws_capacity_rejections_total", "reason=\"shutting_down\""));
    }
  }

  @Test
  void failedCountsEveryRefusedOrMalformedUpgradeAndEachRefusalHasItsReason() throws Exception {
    server = ServerHarness.start(kafka, new JsonObject().put("mode", "single")
        .put("admission", new JsonObject().put("allowedOrigins", new JsonArray().add("https://app.example"))));
    String health = exchange("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    assertTrue(health.startsWith("HTTP/1.1 200"), firstLine(health));
    String origin = exchange(RawWsClient.UPGRADE_HEADERS + "Origin: https://evil.example\r\n\r\n");
    assertTrue(origin.startsWith("HTTP/1.1 403"), firstLine(origin));
    String version = exchange(RawWsClient.UPGRADE_HEADERS.replace("Version: 13", "Version: 8") + "Origin: https://app.example\r\n\r\n");
    assertTrue(version.startsWith("HTTP/1.1 426"), firstLine(version));
    String noUpgrade = exchange("GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: https://app.example\r\nConnection: close\r\n\r\n");
    assertTrue(noUpgrade.startsWith("HTTP/1.1 4"), firstLine(noUpgrade));
    String ok = exchange(RawWsClient.UPGRADE_HEADERS + "Origin: https://app.example\r\n\r\n");
    assertTrue(ok.startsWith("HTTP/1.1 101"), firstLine(ok));

    String metrics = opsMetrics();
    assertEquals(1, metric(metrics, "ws_origin_rejections_total", null));
    assertEquals(3, metric(metrics, "ws_connections_failed_total", null), "one refused, two malformed; not the probe, not the upgrade");
    for (String reason : new String[] {"full", "shutting_down", "cpu", "heap"}) {
      assertEquals(0, metric(metrics, "ws_capacity_rejections_total", "reason=\"" + reason + "\""), reason);
    }
  }

  /** Writes a request on a new socket and reads until the server closes (or 5 s of silence after the head). */
  private String exchange(String request) throws IOException {
    try (Socket s = new Socket("127.0.0.1", server.port())) {
      s.setSoTimeout(30_000);
      s.getOutputStream().write(request.getBytes(StandardCharsets.US_ASCII));
      s.getOutputStream().flush();
      InputStream in = s.getInputStream();
      ByteArrayOutputStream got = new ByteArrayOutputStream();
      byte[] buf = new byte[8192];
      while (true) {
        int n;
        try {
          n = in.read(buf);
        } catch (java.net.SocketTimeoutException e) {
          break;
        }
        if (n < 0) {
          break;
        }
        got.write(buf, 0, n);
        String text = got.toString(StandardCharsets.ISO_8859_1);
        if (text.startsWith("HTTP/1.1 101") && text.contains("\r\n\r\n")) {
          break; // an upgraded socket stays open
        }
      }
      return got.toString(StandardCharsets.ISO_8859_1);
    }
  }

  private String opsMetrics() throws IOException {
    String saved = exchangeOn(server.server.opsPort(), "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    assertTrue(saved.startsWith("HTTP/1.1 200"), firstLine(saved));
    return saved;
  }

  private static String exchangeOn(int port, String request) throws IOException {
    try (Socket s = new Socket("127.0.0.1", port)) {
      s.setSoTimeout(30_000);
      s.getOutputStream().write(request.getBytes(StandardCharsets.US_ASCII));
      return new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  /** The value of a Prometheus sample whose labels contain {@code label} (null: the unlabelled one). */
  private static double metric(String text, String name, String label) {
    Matcher m = Pattern.compile("(?m)^" + Pattern.quote(name) + "(\\{[^}]*\\})? (\\S+)$").matcher(text);
    while (m.find()) {
      String labels = m.group(1);
      if (label == null ? labels == null : labels != null && labels.contains(label)) {
        return Double.parseDouble(m.group(2));
      }
    }
    throw new AssertionError(name + (label == null ? "" : "{" + label + "}") + " not in /metrics");
  }

  private static String firstLine(String response) {
    int eol = response.indexOf('\r');
    return eol < 0 ? response : response.substring(0, eol);
  }
}
