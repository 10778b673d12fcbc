package io.odinws.it;

import io.odinws.testkit.Await;
import io.odinws.testkit.EmbeddedKafka;
import io.odinws.testkit.KafkaBrokerExtension;
import io.odinws.testkit.OdinTopics;
import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.json.JsonObject;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code ws.flushDelayMicros}: batches written within the delay share one flush (one write syscall) per
 * connection, and nothing is lost or reordered by waiting.
 */
@ExtendWith(KafkaBrokerExtension.class)
class FlushDelayTest {

  private static final int RECORDS = 10;
  private static ServerHarness server;
  private static Vertx clientVertx;

  @BeforeAll
  static void start(EmbeddedKafka kafka) throws Exception {
    OdinTopics.createAll(kafka);
    server = ServerHarness.start(kafka, new JsonObject().put("shards", 1)
        .put("ws", new JsonObject().put("flushDelayMicros", 100_000)));
    clientVertx = Vertx.vertx();
  }

  @AfterAll
  static void stop() throws Exception {
    clientVertx.close().await();
    server.close();
  }

  @Test
  void batchesWithinTheDelayShareOneFlush(EmbeddedKafka kafka) throws Exception {
    WebSocketClient wsClient = clientVertx.createWebSocketClient();
    try (WsTestClient c = WsTestClient.open(wsClient, server.port());
         KafkaProducer<String, String> producer = OdinTopics.producer(kafka.bootstrap())) {
      c.subscribe("BTC.trade");
      long flushesBefore = flushes();
      long read = server.server.ingest().received();
      for (int i = 0; i < RECORDS; i++) {
        String value = "{\"type\":\"TRADE_EXECUTED\",\"timestamp\":" + System.currentTimeMillis() + ",\"data\":{\"i\":" + i + "}}";
        producer.send(new ProducerRecord<>(OdinTopics.TRADES, "BTC", value)).get();
        long expected = read + i + 1;
        // the next record only once the server has read this one: every record is a batch of its own
        Await.until("the server read record " + i, Duration.ofSeconds(10), () -> server.server.ingest().received() >= expected);
      }
      Await.until("all records delivered", Duration.ofSeconds(10), () -> c.dataCount() >= RECORDS);
      List<WsTestClient.Received> data = c.data();
      assertEquals(RECORDS, data.size());
      for (int i = 0; i < RECORDS; i++) {
        assertEquals(i, data.get(i).json().getJsonObject("data").getJsonObject("data").getInteger("i"), "in order");
      }
      long flushes = flushes() - flushesBefore;
      // Without the delay every batch is flushed on its own: RECORDS flushes of this one connection.
      assertTrue(flushes < RECORDS, RECORDS + " one-record batches within 100 ms windows took " + flushes + " flushes");
    }
  }

  private static long flushes() {
    return server.slots().stream().mapToLong(s -> s.stats().socketFlushes()).sum();
  }
}
