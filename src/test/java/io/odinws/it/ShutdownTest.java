package io.odinws.it;

import io.odinws.testkit.Await;
import io.odinws.testkit.EmbeddedKafka;
import io.odinws.testkit.FreePorts;
import io.odinws.testkit.KafkaBrokerExtension;
import io.odinws.testkit.OdinTopics;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.UpgradeRejectedException;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Graceful shutdown: readiness off, 503 "Server is shutting down", close 1001 for everyone, an exit by itself. */
@ExtendWith({KafkaBrokerExtension.class, VertxExtension.class})
class ShutdownTest {

  private static EmbeddedKafka kafka;

  @BeforeAll
  static void topics(EmbeddedKafka broker) {
    kafka = broker;
    OdinTopics.createAll(kafka);
  }

  @Test
  void sigtermClosesAThousandClientsWith1001AndExits(Vertx clientVertx) throws Exception {
    int port = FreePorts.one(); // the server binds it later
    String conf = new JsonObject().put("shards", 2)
        .put("http", new JsonObject().put("host", "127.0.0.1").put("port", port))
        .put("ops", new JsonObject().put("host", "127.0.0.1").put("port", 0))
        .put("kafka", new JsonObject().put("bootstrap", kafka.bootstrap()))
        .put("admission", new JsonObject().put("enabled", false).put("cpuRejectPercent", 100).put("heapRejectPercent", 100))
        .encode();
    // The production entry point in its own JVM, so it receives a real SIGTERM.
    String classpath = "target/classes:" + Files.readString(Path.of("target/dev-classpath.txt")).strip();
    Process server = new ProcessBuilder("java", "-Xmx512m", "-cp", classpath, "io.odinws.cli.Main", "-conf", conf)
        .redirectErrorStream(true).redirectOutput(Path.of("target/shutdown-test-server.log").toFile()).start();
    try {
      HttpClient http = HttpClient.newHttpClient();
      Await.until("the server is ready", Duration.ofSeconds(60), () -> {
        try {
          return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/health/ready")).build(),
              HttpResponse.BodyHandlers.ofString()).statusCode() == 200;
        } catch (Exception notYet) {
          return false;
        }
      });
      WebSocketClient ws = clientVertx.createWebSocketClient(new WebSocketClientOptions().setMaxConnections(2000));
      List<WsTestClient> clients = new ArrayList<>();
      for (int batch = 0; batch < 10; batch++) {
        List<Future<WsTestClient>> opening = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
          opening.add(WsTestClient.connect(ws, port));
        }
        for (Future<WsTestClient> f : opening) {
          clients.add(f.await(20, TimeUnit.SECONDS));
        }
      }
      assertEquals(1000, clients.size());

      server.destroy(); // SIGTERM
      // The server bounds its own exit (shutdown.drainMs + 2 s); the test only needs it to end by itself.
      assertTrue(server.waitFor(60, TimeUnit.SECONDS), "exited by itself");
      Await.until("every client saw its close", Duration.ofSeconds(30), () -> clients.stream().allMatch(c -> c.closeCode != null));
      long with1001 = clients.stream().filter(c -> c.closeCode == 1001).count();
      assertEquals(1000, with1001, "every client received close 1001");
    } finally {
      server.destroyForcibly();
    }
  }

  /**
   * A SIGTERM while the server is still starting (a pod stopped during its start): the start is abandoned and the
   * process exits by itself, its shutdown finished. An unreachable broker holds the start up (the consumer begun ahead
   * waits for it) while the router already listens, so the signal lands in the middle of the deployment. Before, the
   * abandoned start's failure handler called System.exit on an event loop, which blocked it while the shutdown hook
   * waited for Vert.x to close: the hook gave up at its deadline (shutdown.drainMs + 2 s). Then the start, failed by
   * Vert.x's close, was answered a second time by the server's own failure: Vert.x logged "Unhandled exception".
   */
  @Test
  void sigtermDuringTheStartAbandonsItAndTheShutdownFinishes() throws Exception {
    String conf = new JsonObject().put("shards", 1)
        .put("http", new JsonObject().put("host", "127.0.0.1").put("port", 0))
        .put("ops", new JsonObject().put("host", "127.0.0.1").put("port", 0))
        .put("kafka", new JsonObject().put("bootstrap", "127.0.0.1:9"))
        .encode();
    String classpath = "target/classes:" + Files.readString(Path.of("target/dev-classpath.txt")).strip();
    Path log = Path.of("target/shutdown-during-start-server.log");
    Process server = new ProcessBuilder("java", "-Xmx256m", "-cp", classpath, "io.odinws.cli.Main", "-conf", conf)
        .redirectErrorStream(true).redirectOutput(log.toFile()).start();
    try {
      Await.until("the router listens", Duration.ofSeconds(60), () -> {
        try {
          return Files.readString(log).contains("event=router_listening");
        } catch (java.io.IOException notYet) {
          return false;
        }
      });
      server.destroy(); // SIGTERM
      assertTrue(server.waitFor(60, TimeUnit.SECONDS), "exited by itself");
      String out = Files.readString(log);
      assertTrue(out.contains("event=shutdown_finished"), out);
      assertFalse(out.contains("event=shutdown_incomplete"), out);
      assertFalse(out.contains("event=startup_failed"), out);
      // the start answered once, by Vert.x's close: not a second time by the server (Promise already completed)
      assertFalse(out.contains("Unhandled exception"), out);
    } finally {
      server.destroyForcibly();
    }
  }

  @Test
  void whileDrainingReadinessIsOffAndNewUpgradesGet503ShuttingDown(Vertx clientVertx) throws Exception {
    try (ServerHarness h = ServerHarness.start(kafka, new JsonObject().put("shards", 2))) {
      WebSocketClient ws = clientVertx.createWebSocketClient();
      WsTestClient before = WsTestClient.open(ws, h.port());
      HttpClient http = HttpClient.newHttpClient();
      URI ready = URI.create("http://127.0.0.1:" + h.port() + "/health/ready");
      assertEquals(200, http.send(HttpRequest.newBuilder(ready).build(), HttpResponse.BodyHandlers.ofString()).statusCode());

      h.server.drain().await(30, TimeUnit.SECONDS);
      Await.until("the connected client got 1001", Duration.ofSeconds(30), () -> before.closeCode != null);
      assertEquals((short) 1001, before.closeCode);
      HttpResponse<String> notReady = http.send(HttpRequest.newBuilder(ready).build(), HttpResponse.BodyHandlers.ofString());
      assertEquals(503, notReady.statusCode());
      assertTrue(notReady.body().contains("shutting down"), notReady.body());
      UpgradeRejectedException r = assertThrows(UpgradeRejectedException.class, () -> WsTestClient.open(ws, h.port()),
          "an upgrade was accepted while draining");
      assertEquals(503, r.getStatus());
      assertEquals("Server is shutting down\n", r.getBody().toString());
    }
  }
  /**
   * {@code http.reusePort}: a second server binds the same port while the first runs, and once the first drains
   * every new upgrade reaches the second (the first stopped listening instead of answering 503). Without the
   * option the second cannot bind; without the stop, about half of the new upgrades would be refused with 503.
   */
  @Test
  void withReusePortANewServerTakesEveryNewConnectionWhileTheOldOneDrains(Vertx clientVertx) throws Exception {
    int port = FreePorts.one(); // the server binds it later
    JsonObject shared = new JsonObject().put("shards", 1)
        .put("http", new JsonObject().put("host", "127.0.0.1").put("port", port).put("reusePort", true));
    try (ServerHarness old = ServerHarness.start(kafka, shared.copy()); ServerHarness next = ServerHarness.start(kafka, shared.copy())) {
      assertEquals(port, old.port());
      assertEquals(port, next.port());
      WebSocketClient ws = clientVertx.createWebSocketClient();
      List<WsTestClient> before = new ArrayList<>();
      for (int i = 0; i < 20; i++) {
        before.add(WsTestClient.open(ws, port));
      }
      old.server.drain().await(30, TimeUnit.SECONDS);
      int onOld = old.server.shards().totalConnections();
      assertEquals(0, onOld, "the old server still holds connections after its drain");
      int onNextBefore = next.server.shards().totalConnections();
      List<WsTestClient> after = new ArrayList<>();
      for (int i = 0; i < 20; i++) {
        after.add(WsTestClient.open(ws, port)); // a 503 from the old server would throw here
      }
      Await.until("the new server holds every new connection", Duration.ofSeconds(30),
          () -> next.server.shards().totalConnections() == onNextBefore + 20);
      after.forEach(c -> assertEquals(null, c.closeCode));
    }
  }
}
