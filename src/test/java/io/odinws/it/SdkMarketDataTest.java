package io.odinws.it;

import io.odinws.testkit.Await;
import io.odinws.testkit.ClientsBuild;
import io.odinws.testkit.EmbeddedKafka;
import io.odinws.testkit.KafkaBrokerExtension;
import io.odinws.testkit.NodeScript;
import io.odinws.testkit.OdinTopics;
import io.vertx.core.json.JsonObject;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 18, point 4: the TypeScript SDK in Node against the real server, with {@code ws} as it comes (offering
 * permessage-deflate, which the server accepts by default): {@code subscribe(channel, {snapshot: 10})} on a channel
 * with 30 records gives the application the last 10 of them marked as snapshot, then its {@code snapshot} event,
 * then every later record live, each once, in offset order, as Kafka holds them; the large values arrived compressed.
 */
@ExtendWith(KafkaBrokerExtension.class)
class SdkMarketDataTest {

  private static final Duration WITHIN = Duration.ofSeconds(60);
  /** Longer than ws.compression.minBytes, so that the live ones go compressed. */
  private static final String PAD = "p".repeat(400);

  @Test
  void snapshotThenLiveThroughTheSdkCompressed(EmbeddedKafka kafka) throws Exception {
    ClientsBuild.ensureSdkBuilt();
    OdinTopics.createAll(kafka);
    ExactChannel channel = ExactChannel.ofThisRun("SNAP", 1).get(0);
    try (ServerHarness server = ServerHarness.start(kafka, new JsonObject().put("shards", 2));
         KafkaProducer<String, String> producer = OdinTopics.producer(kafka.bootstrap())) {
      long before = server.server.ingest().received();
      for (int i = 0; i < 30; i++) {
        send(producer, channel, i);
      }
      producer.flush();
      Await.until("the server read the first 30 records", WITHIN, () -> server.server.ingest().received() >= before + 30);
      try (NodeScript sdk = NodeScript.start("test/it/snapshot.mjs", List.of(new JsonObject()
          .put("url", "ws://127.0.0.1:" + server.port() + "/ws").put("channel", channel.name()).put("snapshot", 10).encode()), null)) {
        JsonObject upgrade = sdk.await("the upgrade", WITHIN, e -> "upgrade".equals(e.getString("ev")));
        assertTrue(upgrade.getString("extensions").startsWith("permessage-deflate"), "compression negotiated: " + upgrade);
        JsonObject snapshot = sdk.await("the snapshot event", WITHIN, e -> "snapshot".equals(e.getString("ev")));
        assertEquals(10, snapshot.getInteger("sent"), snapshot.encode());
        long compressedBefore = server.server.ingest().compressed();
        for (int i = 30; i < 50; i++) {
          send(producer, channel, i);
        }
        producer.flush();
        Await.until("the SDK delivered 30 messages", WITHIN, () -> messages(sdk).size() >= 30, () -> messages(sdk).toString());
        List<JsonObject> got = messages(sdk);
        List<String> kafkaPositions = channel.kafkaPositions(kafka.bootstrap());
        assertEquals(50, kafkaPositions.size());
        assertEquals(kafkaPositions.subList(20, 50), got.stream().map(m -> m.getString("pos")).toList(),
            "the last 10 before the subscribe, then every later record, once, in offset order");
        for (int k = 0; k < got.size(); k++) {
          JsonObject m = got.get(k);
          assertEquals(20 + k, m.getInteger("i"), "the record's own value: " + m);
          assertEquals(k < 10, m.getBoolean("snapshot"), "snapshot flag of message " + k + ": " + m);
          assertEquals(0, m.getInteger("skipped"));
        }
        assertTrue(server.server.ingest().compressed() >= compressedBefore + 20, "the live records were compressed once each");
      }
    }
  }

  private static void send(KafkaProducer<String, String> producer, ExactChannel channel, int i) {
    producer.send(new ProducerRecord<>(channel.topic(), channel.token(), new JsonObject().put("type", "TRADE_EXECUTED")
        .put("data", new JsonObject().put("i", i).put("channel", channel.name()).put("pad", PAD)).encode()));
  }

  private static List<JsonObject> messages(NodeScript sdk) {
    return sdk.events().stream().filter(e -> "msg".equals(e.getString("ev"))).toList();
  }
}
