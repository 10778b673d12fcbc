package io.odinws.it;

import io.odinws.testkit.Await;
import io.odinws.testkit.EmbeddedKafka;
import io.odinws.testkit.KafkaBrokerExtension;
import io.odinws.testkit.OdinTopics;
import io.vertx.core.json.JsonObject;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/**
 * A client that stops reading until far more is queued for it than its socket holds, then reads
 * everything: each message arrives whole, once and in order, and a reply the server wrote after them
 * comes after them. The shard writes fan-out frames straight to the socket and hands what the
 * socket does not take to Netty's queue; this is the test of that hand-over (a byte lost, repeated
 * or reordered there breaks the frames that follow).
 */
@ExtendWith(KafkaBrokerExtension.class)
class BackpressureOrderTest {

  private static final int MESSAGES = 750;

  @Test
  void aClientThatPausesGetsEveryMessageWholeAndInOrderThenTheReply(EmbeddedKafka kafka) throws Exception {
    OdinTopics.createAll(kafka);
    // Over the high-water mark soon, but never closed for it within the test.
    try (ServerHarness server = ServerHarness.start(kafka, new JsonObject().put("shards", 1)
        .put("limits", new JsonObject().put("outboundHighWaterBytes", 256 * 1024).put("outboundHardCapBytes", 64 << 20)
            .put("slowClientGraceMs", 120_000)));
         KafkaProducer<String, String> producer = OdinTopics.producer(kafka.bootstrap());
         RawWsClient client = RawWsClient.connect(server.port(), 4096)) {
      client.sendText("{\"type\":\"subscribe\",\"data\":{\"channels\":[\"PAUSE.trade\"]}}");
      assertEquals("subscription_ack", new JsonObject(client.readUntil(0x1).text()).getString("type"));

      // ~6 MB: more than the kernel buffers of both ends hold, so most of it waits in the server.
      String pad = "x".repeat(8000);
      long sentBefore = server.slots().get(0).stats().messagesSent();
      for (int i = 0; i < MESSAGES; i++) {
        producer.send(new ProducerRecord<>(OdinTopics.TRADES, "PAUSE", "{\"i\":" + i + ",\"pad\":\"" + pad + "\"}"));
      }
      producer.flush();
      Await.until("the shard wrote every message to the client", Duration.ofSeconds(30),
          () -> server.slots().get(0).stats().messagesSent() - sentBefore >= MESSAGES);
      // Read by the server after every message was written for the client: its ack must come last.
      client.sendText("{\"type\":\"unsubscribe\",\"data\":{\"channels\":[\"PAUSE.trade\"]}}");

      client.socket.setSoTimeout(30_000);
      for (int i = 0; i < MESSAGES; i++) {
        RawWsClient.Frame f = client.read();
        assertNotNull(f, "stream ended after " + i + " messages");
        assertEquals(0x1, f.opcode(), "message " + i + " is a text frame");
        JsonObject m = new JsonObject(f.text());
        assertEquals("PAUSE.trade", m.getString("channel"), "frame " + i + " is a message of the channel");
        assertEquals(i, m.getJsonObject("data").getInteger("i"), "messages in order, none lost or repeated");
        assertEquals(pad, m.getJsonObject("data").getString("pad"), "message " + i + " whole");
      }
      assertEquals("unsubscription_ack", new JsonObject(client.readUntil(0x1).text()).getString("type"));
      assertEquals(0, server.slots().get(0).stats().slowClientsClosed());
    }
  }
}
