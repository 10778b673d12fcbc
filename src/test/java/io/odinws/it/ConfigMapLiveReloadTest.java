package io.odinws.it;

import io.odinws.OdinServer;
import io.odinws.testkit.Await;
import io.odinws.testkit.EmbeddedKafka;
import io.odinws.testkit.KafkaBrokerExtension;
import io.odinws.testkit.OdinTopics;
import io.odinws.tools.loadtest.LoadTest;
import io.odinws.tools.publish.DemoPublisher;
import io.odinws.tools.publish.PublisherOptions;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Kubernetes ConfigMap switch, end to end: the server runs with {@code -conf} on a file in a directory laid out
 * and updated exactly as the kubelet does it for a ConfigMap volume ({@link KubeletConfigVolume}: a timestamped data
 * directory behind the {@code ..data} symlink, swapped atomically). Two updates switch single -> multi (3 shards) ->
 * single under connected, subscribed clients while records are produced; the server's /health shows each switch,
 * and the load generator, checking every client against Kafka's own record, finds nothing missing, duplicated or
 * out of order.
 */
@ExtendWith(KafkaBrokerExtension.class)
class ConfigMapLiveReloadTest {

  static final int CLIENTS = 150;

  @Test
  void kubeletsSymlinkSwapSwitchesSingleToMultiToSingleUnderClientsLosingNothing(EmbeddedKafka kafka, @TempDir Path tmp)
      throws Exception {
    OdinTopics.createAll(kafka);
    Path mount = Files.createDirectory(tmp.resolve("conf"));
    // A whole file, as the ConfigMap holds one: the server re-reads all of it on each change.
    JsonObject file = new JsonObject()
        .put("http", new JsonObject().put("host", "127.0.0.1").put("port", 0))
        .put("ops", new JsonObject().put("host", "127.0.0.1").put("port", 0))
        .put("kafka", new JsonObject().put("bootstrap", kafka.bootstrap()))
        .put("admission", new JsonObject().put("enabled", false).put("cpuRejectPercent", 100).put("heapRejectPercent", 100))
        .put("reload", new JsonObject().put("scanPeriodMs", 200));
    KubeletConfigVolume volume = KubeletConfigVolume.create(mount, "odin-ws.json", single(file));
    // what Main passes for -conf /app/conf/odin-ws.json: the file's content and the path it watches (the symlink)
    JsonObject conf = new JsonObject(Files.readString(volume.file())).put(OdinServer.CONFIG_FILE_KEY, volume.file().toString());

    try (ServerHarness server = ServerHarness.start(kafka, conf);
         DemoPublisher publisher = DemoPublisher.start(PublisherOptions.parse(new String[] {"--bootstrap", kafka.bootstrap(), "--rate", "200"}))) {
      HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
      assertEquals(1, healthShards(http, server));
      Path report = tmp.resolve("loadtest.json");
      AtomicInteger exit = new AtomicInteger(-1);
      Thread load = new Thread(() -> exit.set(LoadTest.run(new String[] {
          "--url", "ws://127.0.0.1:" + server.port() + "/ws", "--connections", String.valueOf(CLIENTS), "--ramp", "20/s",
          "--subscribe", "random:3", "--recover", "--kafka", kafka.bootstrap(), "--duration", "22", "--heartbeat", "0",
          "--processes", "1", "--expect-connections", String.valueOf(CLIENTS), "--max-loss", "0", "--report", report.toString()},
          new PrintStream(new ByteArrayOutputStream()), new PrintStream(new ByteArrayOutputStream()))), "loadtest");
      load.start();
      // The ramp straddles the first switch: early clients land on the one shard, later ones on all three.
      Await.until("the first clients connected", Duration.ofSeconds(30), () -> webSockets(server) >= 30);

      volume.update(multi(file, 3));
      Await.until("/health shows three shards", Duration.ofSeconds(20), () -> healthShards(http, server) == 3);
      long seen = server.server.ingest().received();
      Await.until("traffic on three shards", Duration.ofSeconds(20), () -> server.server.ingest().received() - seen >= 400);
      Await.until("all " + CLIENTS + " connected", Duration.ofSeconds(40), () -> webSockets(server) == CLIENTS);
      assertTrue(server.slots().stream().filter(s -> s.id() > 0).mapToInt(s -> s.stats().webSockets()).sum() > 0,
          "clients landed on the shards the first update added");

      // with a start-only change too: logged as needing a restart, not applied (the running shards keep theirs)
      var limits = server.server.configuration().limits();
      volume.update(new JsonObject(single(file)).put("limits", new JsonObject().put("messagesPerSecond", limits.messagesPerSecond() + 1)).encode());
      Await.until("/health shows one shard", Duration.ofSeconds(20), () -> healthShards(http, server) == 1);
      // the removed shards leave /health at once; the re-shard completes when their clients are gone
      Await.until("both re-shards completed", Duration.ofSeconds(20), () -> server.server.state().reconfiguredCount() == 2);
      assertEquals(0, server.server.state().configRejectedCount(), "no update was read half-written");
      assertEquals(limits, server.server.configuration().limits(), "limits apply at the next start only");

      load.join(Duration.ofSeconds(90).toMillis());
      assertFalse(load.isAlive(), "the load generator ends by itself");
      JsonObject r = new JsonObject(Files.readString(report));
      String summary = "exit " + exit.get() + ", connections " + r.getJsonObject("connections") + ", loss " + r.getValue("loss")
          + ", closes " + r.getValue("closes_by_code") + ", messages " + r.getValue("messages");
      System.out.println("configmap live reload test: " + summary);
      assertEquals(CLIENTS, r.getJsonObject("connections").getLong("held_at_end"), summary);
      assertTrue(r.getJsonObject("loss").getLong("expected") > 0, summary);
      assertEquals(0, r.getJsonObject("loss").getLong("missing"), summary);
      assertEquals(0, r.getJsonObject("messages").getLong("duplicates"), summary);
      assertEquals(0, r.getJsonObject("messages").getLong("out_of_order"), summary);
      assertTrue(r.getJsonObject("closes_by_code").getLong("1012", 0L) > 0, "clients of the removed shards were moved: " + summary);
      assertEquals(0, exit.get(), summary);
    }
  }

  private static String single(JsonObject file) {
    return file.copy().put("mode", "single").encodePrettily();
  }

  private static String multi(JsonObject file, int shards) {
    return file.copy().put("mode", "multi").put("shards", shards).encodePrettily();
  }

  private static int webSockets(ServerHarness server) {
    return server.slots().stream().mapToInt(s -> s.stats().webSockets()).sum();
  }

  /** The shard count the operations port's /health reports, as an operator would check a switch. */
  private static int healthShards(HttpClient http, ServerHarness server) {
    try {
      HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.server.opsPort() + "/health"))
          .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
      return new JsonObject(response.body()).getJsonArray("shards").size();
    } catch (Exception e) {
      throw new AssertionError("GET /health on the operations port: " + e, e);
    }
  }
}
