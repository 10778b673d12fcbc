package io.odinws.it;

import io.odinws.testkit.Await;
import io.odinws.testkit.EmbeddedKafka;
import io.odinws.testkit.KafkaBrokerExtension;
import io.odinws.testkit.OdinTopics;
import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code ws.flushDelayMicros}: batches written within the delay share one flush (one write syscall) per
 * connection, and nothing is lost or reordered by waiting.
 *
 * <p>Whether two batches reach the server within one delay depends on the machine (a record's way through the
 * broker can take longer than the delay on a busy one), so the test repeats rounds of one-record batches until
 * one round shows batches sharing a flush, within a generous deadline. Without the delay no round ever does:
 * the next record is produced only once the shard has written the previous batch, which is when it queues that
 * batch's flush, so the flush runs before the next batch can arrive.
 */
@ExtendWith({KafkaBrokerExtension.class, VertxExtension.class})
class FlushDelayTest {

  private static final int RECORDS = 10;
  private static final Duration DEADLINE = Duration.ofSeconds(90);
  private static ServerHarness server;
  private static Vertx clientVertx;

  @BeforeAll
  @Timeout(value = 120, timeUnit = TimeUnit.SECONDS)
  static void start(EmbeddedKafka kafka, Vertx vertx, VertxTestContext ctx) {
    OdinTopics.createAll(kafka);
    ServerHarness.deploy(kafka, new JsonObject().put("shards", 1)
        .put("ws", new JsonObject().put("flushDelayMicros", 100_000)))
        .onComplete(ctx.succeeding(h -> {
          server = h;
          ctx.completeNow();
        }));
    clientVertx = vertx; // VertxExtension closes it after the class
  }

  @AfterAll
  static void stop(VertxTestContext ctx) {
    ServerHarness.stop(server).onComplete(ctx.succeedingThenComplete());
  }

  @Test
  void batchesWithinTheDelayShareOneFlush(EmbeddedKafka kafka) throws Exception {
    WebSocketClient wsClient = clientVertx.createWebSocketClient();
    try (WsTestClient c = WsTestClient.open(wsClient, server.port());
         KafkaProducer<String, String> producer = OdinTopics.producer(kafka.bootstrap())) {
      c.subscribe("BTC.trade");
      long deadline = System.nanoTime() + DEADLINE.toNanos();
      List<Long> flushesPerRound = new ArrayList<>();
      int sent = 0;
      while (flushesPerRound.isEmpty() || flushesPerRound.get(flushesPerRound.size() - 1) >= RECORDS) {
        assertTrue(System.nanoTime() - deadline < 0, "in no round did one-record batches share a flush: flushes per round of "
            + RECORDS + " batches " + flushesPerRound);
        long flushesBefore = flushes();
        for (int i = 0; i < RECORDS; i++, sent++) {
          String value = "{\"type\":\"TRADE_EXECUTED\",\"timestamp\":" + System.currentTimeMillis() + ",\"data\":{\"i\":" + sent + "}}";
          long expected = server.messagesSent() + 1;
          producer.send(new ProducerRecord<>(OdinTopics.TRADES, "BTC", value));
          producer.flush();
          // the next record only once the shard has written this one: every record is a batch of its own
          Await.until("the shard wrote record " + sent, Duration.ofSeconds(30), () -> server.messagesSent() >= expected);
        }
        int total = sent;
        Await.until("the round's records delivered", Duration.ofSeconds(30), () -> c.dataCount() >= total);
        flushesPerRound.add(flushes() - flushesBefore);
      }
      List<WsTestClient.Received> data = c.data();
      assertEquals(sent, data.size());
      for (int i = 0; i < sent; i++) {
        assertEquals(i, data.get(i).json().getJsonObject("data").getJsonObject("data").getInteger("i"), "in order");
      }
    }
  }

  private static long flushes() {
    return server.slots().stream().mapToLong(s -> s.stats().socketFlushes()).sum();
  }
}
