package io.odinws.it;

import io.odinws.testkit.Chromium;
import io.odinws.testkit.EmbeddedKafka;
import io.odinws.testkit.KafkaBrokerExtension;
import io.odinws.testkit.NodeScript;
import io.odinws.testkit.OdinTopics;
import io.vertx.core.json.JsonObject;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Headless Chromium's WebSocket, which offers permessage-deflate by itself, against the real server and broker:
 * it negotiates the extension and receives large messages compressed and small ones uncompressed, each text
 * exactly the envelope of what Kafka holds.
 */
@ExtendWith(KafkaBrokerExtension.class)
class BrowserDeflateTest {

  private static final Duration STEP = Duration.ofSeconds(60);

  @Test
  @Timeout(value = 3, unit = TimeUnit.MINUTES)
  void theBrowserReadsCompressedAndUncompressedMessagesAsKafkaHoldsThem(EmbeddedKafka kafka) throws Exception {
    Path chromium = Chromium.executable();
    OdinTopics.createAll(kafka);
    String token = "BRDF" + Long.toString(System.nanoTime() % 100_000, 36).toUpperCase();
    String channel = token + ".trade";
    ServerHarness server = ServerHarness.start(kafka, new JsonObject().put("mode", "single")
        .put("ws", new JsonObject().put("compression", new JsonObject().put("enabled", true).put("minBytes", 256).put("level", 1))));
    try (NodeScript page = NodeScript.start("test/browser/deflate.mjs", List.of(new JsonObject()
        .put("chromium", chromium.toString()).put("url", "ws://127.0.0.1:" + server.port() + "/ws").put("channel", channel).encode()), null)) {
      JsonObject open = page.await("the browser connected", STEP, e -> "open".equals(e.getString("ev")));
      assertTrue(open.getString("extensions", "").startsWith("permessage-deflate"), "the browser negotiated it: " + open);
      page.await("subscribed", STEP, e -> "msg".equals(e.getString("ev")) && e.getString("text").contains("subscription_ack"));

      List<String> values = new ArrayList<>();
      for (int i = 0; i < 20; i++) {
        if (i % 2 == 0) {
          StringBuilder v = new StringBuilder("{\"i\":" + i + ",\"text\":\"é ü 漢字 ✓\",\"levels\":[");
          for (int j = 0; j < 30 + i * 10; j++) {
            v.append(j == 0 ? "" : ",").append("{\"p\":\"6").append(1000 + j).append(".5\",\"q\":\"0.").append(j % 9).append("\"}");
          }
          values.add(v.append("]}").toString());
        } else {
          values.add("{\"i\":" + i + ",\"p\":\"61000.5\"}");
        }
      }
      long compressedBefore = server.server.ingest().compressed();
      List<Long> offsets = new ArrayList<>();
      try (KafkaProducer<String, String> producer = OdinTopics.producer(kafka.bootstrap())) {
        for (String v : values) {
          offsets.add(producer.send(new ProducerRecord<>(OdinTopics.TRADES, token, v)).get().offset());
        }
      }
      int from = 0;
      for (int i = 0; i < values.size(); i++) {
        int at = page.awaitIndex("message " + i, STEP, from, e -> "msg".equals(e.getString("ev")) && e.getString("text").startsWith("{\"seq\""));
        JsonObject envelope = new JsonObject(page.events().get(at).getString("text"));
        assertEquals(offsets.get(i), envelope.getLong("seq"));
        assertEquals(channel, envelope.getString("channel"));
        assertEquals(new JsonObject(values.get(i)), envelope.getJsonObject("data"), "message " + i + " as Kafka holds it");
        from = at + 1;
      }
      assertEquals(values.size() / 2, server.server.ingest().compressed() - compressedBefore,
          "the large half went compressed, the small half not");
      assertEquals(List.of(), page.events().stream().filter(e -> List.of("console", "close").contains(e.getString("ev"))).toList());
    } finally {
      ServerHarness.stop(server).await(30, TimeUnit.SECONDS);
    }
  }
}
