package io.odinws.it;

import io.netty.buffer.PooledByteBufAllocator;
import io.odinws.testkit.Await;
import io.odinws.testkit.EmbeddedKafka;
import io.odinws.testkit.KafkaBrokerExtension;
import io.odinws.testkit.OdinTopics;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * A client that stops reading is closed with 1008 once it has stayed over the outbound bound for the grace period;
 * the 100 clients reading normally beside it get every message, also while it sits over its bound, and the memory
 * its queue held is released. How much the slow client costs the others' latency is measured by make bench (S4),
 * not asserted here: on a busy machine a latency comparison fails for reasons of the machine.
 */
@ExtendWith({KafkaBrokerExtension.class, VertxExtension.class})
class SlowClientTest {

  private static final int READERS = 100;
  private static final int HOT_MESSAGES = 200;
  /** ~6 MB for the slow client alone: more than the kernel's own buffers hold (send buffers autotune up to 4 MiB). */
  private static final int HEAVY_MESSAGES = 750;
  /** Long enough that the healthy readers are served while the slow client is still connected, even on a busy machine. */
  private static final int GRACE_MS = 10_000;

  @Test
  void aClientThatStopsReadingIsClosedWith1008WhileTheOthersGetEverything(EmbeddedKafka kafka, Vertx clientVertx) throws Exception {
    OdinTopics.createAll(kafka);
    // A 256 KiB bound (default 1 MiB).
    try (ServerHarness server = ServerHarness.start(kafka, new JsonObject().put("shards", 1)
        .put("limits", new JsonObject().put("outboundHighWaterBytes", 256 * 1024).put("outboundHardCapBytes", 64 << 20)
            .put("slowClientGraceMs", GRACE_MS)));
         KafkaProducer<String, String> producer = OdinTopics.producer(kafka.bootstrap())) {
      WebSocketClient ws = clientVertx.createWebSocketClient(new WebSocketClientOptions().setMaxConnections(1000));
      List<WsTestClient> readers = new ArrayList<>();
      List<Future<WsTestClient>> opening = new ArrayList<>();
      for (int i = 0; i < READERS; i++) {
        opening.add(WsTestClient.connect(ws, server.port()));
      }
      for (Future<WsTestClient> f : opening) {
        WsTestClient c = f.await(20, TimeUnit.SECONDS);
        c.subscribe("HOT.trade");
        readers.add(c);
      }
      publishAndAwait(producer, readers, "base");

      long directBefore = PooledByteBufAllocator.DEFAULT.metric().usedDirectMemory();
      long received = server.server.ingest().received();
      long sent = server.messagesSent();
      // The slow client: a tiny receive buffer; subscribes, then never reads again.
      try (RawWsClient slow = RawWsClient.connect(server.port(), 4096)) {
        slow.sendText("{\"type\":\"subscribe\",\"data\":{\"channels\":[\"HOT.trade\",\"HEAVY.trade\"]}}");
        assertEquals("subscription_ack", new JsonObject(slow.readUntil(0x1).text()).getString("type"));
        String pad = "x".repeat(8000);
        for (int i = 0; i < HEAVY_MESSAGES; i++) {
          producer.send(new ProducerRecord<>(OdinTopics.TRADES, "HEAVY", "{\"i\":" + i + ",\"pad\":\"" + pad + "\"}"));
        }
        producer.flush();
        Await.until("the server took the heavy records", Duration.ofSeconds(60),
            () -> server.server.ingest().received() - received >= HEAVY_MESSAGES);
        Await.until("the heavy records written to the slow client's queue", Duration.ofSeconds(60),
            () -> server.messagesSent() - sent >= HEAVY_MESSAGES);

        // Same traffic as before, while the slow client sits over its bound within its grace: the readers
        // are not held up behind it.
        publishAndAwait(producer, readers, "slow");
        assertEquals(0, server.slots().get(0).stats().slowClientsClosed(),
            "the readers were served while the slow client was still connected");
        Await.until("the slow client is closed after its grace", Duration.ofSeconds(60),
            () -> server.slots().get(0).stats().slowClientsClosed() == 1);

        // Reading now, the slow client finds its backlog and then the close frame.
        slow.socket.setSoTimeout(30_000);
        RawWsClient.Frame close = slow.readUntil(0x8);
        if (close != null) {
          assertEquals(1008, close.closeCode());
          assertEquals("Client too slow to process messages",
              new String(Arrays.copyOfRange(close.payload(), 2, close.payload().length), StandardCharsets.UTF_8));
        }
      }
      publishAndAwait(producer, readers, "after");

      // Its queued frames were released: pooled direct memory is back near where it was.
      Await.until("queued frames released", Duration.ofSeconds(30),
          () -> PooledByteBufAllocator.DEFAULT.metric().usedDirectMemory() - directBefore < 16L << 20,
          () -> "used direct " + (PooledByteBufAllocator.DEFAULT.metric().usedDirectMemory() >> 20) + " MiB");
      for (WsTestClient r : readers) {
        assertEquals(3 * HOT_MESSAGES, r.data().size(), "every healthy reader got every message");
        assertNull(r.closeCode);
      }
    }
  }

  /** Publishes HOT_MESSAGES small records to HOT.trade and waits until every reader has them. */
  private static void publishAndAwait(KafkaProducer<String, String> producer, List<WsTestClient> readers, String phase) {
    int before = readers.get(0).dataCount();
    for (int i = 0; i < HOT_MESSAGES; i++) {
      producer.send(new ProducerRecord<>(OdinTopics.TRADES, "HOT", "{\"phase\":\"" + phase + "\",\"i\":" + i + "}"));
    }
    producer.flush();
    Await.until(phase + ": every reader has the messages", Duration.ofSeconds(60),
        () -> readers.stream().allMatch(r -> r.dataCount() >= before + HOT_MESSAGES));
  }
}
