package io.odinws.it;

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

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Live mode switching: the watched configuration file flips single → multi (3 shards) → single
 * under 500 clients while the publisher runs; every client is connected at the end and, with
 * recovery, every message arrives exactly once (the load generator checks against Kafka).
 */
@ExtendWith(KafkaBrokerExtension.class)
class ReshardTest {

  @Test
  void flippingSingleToMultiToSingleUnderLoadLosesNothing(EmbeddedKafka kafka) throws Exception {
    OdinTopics.createAll(kafka);
    Path dir = Files.createDirectories(Path.of("target", "reshard-test"));
    Path conf = dir.resolve("odin-ws.json");
    Files.writeString(conf, "{\"mode\":\"single\"}");
    try (ServerHarness server = ServerHarness.start(kafka, new JsonObject().put("mode", "single")
        .put("configFile", conf.toAbsolutePath().toString()).put("reload", new JsonObject().put("scanPeriodMs", 200)));
         DemoPublisher publisher = DemoPublisher.start(PublisherOptions.parse(new String[] {"--bootstrap", kafka.bootstrap(), "--rate", "200"}))) {
      assertEquals(1, server.slots().size());
      Path report = dir.resolve("loadtest.json");
      Files.deleteIfExists(report);
      AtomicInteger exit = new AtomicInteger(-1);
      ByteArrayOutputStream progress = new ByteArrayOutputStream();
      Thread load = new Thread(() -> exit.set(LoadTest.run(new String[] {
          "--url", "ws://127.0.0.1:" + server.port() + "/ws", "--connections", "500", "--ramp", "50/s",
          "--subscribe", "random:3", "--recover", "--kafka", kafka.bootstrap(), "--duration", "36", "--heartbeat", "0",
          "--processes", "1", "--expect-connections", "500", "--max-loss", "0", "--report", report.toString()},
          new PrintStream(new ByteArrayOutputStream()), new PrintStream(progress))), "loadtest");
      load.start();
      // A ramp of 10 s: the first clients arrive in single mode, the rest (8 s of ramp after the switch) spread
      // over the new shards. The last re-shard follows the ramp, so the run's remaining 26 s are for the moved
      // clients' reconnects and replays, on a busy machine too.
      Await.until("the first clients connected", Duration.ofSeconds(30),
          () -> server.slots().stream().mapToInt(s -> s.stats().webSockets()).sum() >= 100);

      Files.writeString(conf, "{\"mode\":\"multi\",\"shards\":3}");
      Await.until("three shards", Duration.ofSeconds(20), () -> server.slots().size() == 3);
      long seen = server.server.ingest().received();
      Await.until("traffic on three shards", Duration.ofSeconds(20), () -> server.server.ingest().received() - seen >= 600);

      // An invalid file is refused; the running configuration stays.
      Files.writeString(conf, "{\"mode\":\"turbo\"}");
      Await.until("the invalid file is refused", Duration.ofSeconds(20), () -> server.server.state().configRejectedCount() == 1);
      assertEquals(3, server.slots().size());

      Await.until("all 500 connected", Duration.ofSeconds(40),
          () -> server.slots().stream().mapToInt(s -> s.stats().webSockets()).sum() == 500);
      assertTrue(server.slots().get(1).stats().webSockets() > 0, "clients landed on the added shards");
      Files.writeString(conf, "{\"mode\":\"single\"}");
      Await.until("back to one shard", Duration.ofSeconds(20), () -> server.slots().size() == 1);
      load.join(Duration.ofSeconds(120).toMillis());
      assertTrue(!load.isAlive(), "the load generator ends by itself");

      JsonObject r = new JsonObject(Files.readString(report));
      String summary = "exit " + exit.get() + ", connections " + r.getJsonObject("connections") + ", loss " + r.getValue("loss")
          + ", closes " + r.getValue("closes_by_code") + ", duplicates " + r.getJsonObject("messages").getLong("duplicates");
      System.out.println("reshard test: " + summary);
      assertEquals(500, r.getJsonObject("connections").getLong("held_at_end"), summary);
      assertEquals(0, r.getJsonObject("loss").getLong("missing"), summary);
      assertTrue(r.getJsonObject("loss").getLong("expected") > 0, summary);
      assertEquals(0, r.getJsonObject("messages").getLong("duplicates"), summary);
      assertEquals(0, r.getJsonObject("messages").getLong("out_of_order"), summary);
      assertTrue(r.getJsonObject("closes_by_code").getLong("1012", 0L) > 0, "clients of removed shards were moved: " + summary);
      assertEquals(0, exit.get(), summary);
    }
  }
}
