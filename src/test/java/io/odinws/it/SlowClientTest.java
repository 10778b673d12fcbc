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
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A client that stops reading is closed with 1008 once it has stayed over the outbound bound for the
 * grace period; the 100 clients reading normally beside it keep their latency and get everything,
 * and the memory its queue held is released.
 */
@ExtendWith(KafkaBrokerExtension.class)
class SlowClientTest {

  private static final int READERS = 100;
  private static final int HOT_MESSAGES = 200;
  /** ~6 MB for the slow client alone: more than the kernel's own buffers hold (send buffers autotune up to 4 MiB). */
  private static final int HEAVY_MESSAGES = 750;

  @Test
  void aClientThatStopsReadingIsClosedWith1008WithoutSlowingTheOthers(EmbeddedKafka kafka) throws Exception {
    OdinTopics.createAll(kafka);
    // A 256 KiB bound (default 1 MiB); the default 5 s grace leaves time to measure while it is slow.
    try (ServerHarness server = ServerHarness.start(kafka, new JsonObject().put("shards", 1)
        .put("limits", new JsonObject().put("outboundHighWaterBytes", 256 * 1024).put("outboundHardCapBytes", 64 << 20)
            .put("slowClientGraceMs", 5000)));
         KafkaProducer<String, String> producer = OdinTopics.producer(kafka.bootstrap())) {
      Vertx clientVertx = Vertx.vertx();
      try {
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
        long baselineP99 = publishAndMeasure(producer, readers, "base");

        long directBefore = PooledByteBufAllocator.DEFAULT.metric().usedDirectMemory();
        long slowPhaseP99;
        long received = server.server.ingest().received();
        // The slow client: a tiny receive buffer; subscribes, then never reads again.
        try (RawWsClient slow = RawWsClient.connect(server.port(), 4096)) {
          slow.sendText("{\"type\":\"subscribe\",\"data\":{\"channels\":[\"HOT.trade\",\"HEAVY.trade\"]}}");
          assertEquals("subscription_ack", new JsonObject(slow.readUntil(0x1).text()).getString("type"));
          String pad = "x".repeat(8000);
          for (int i = 0; i < HEAVY_MESSAGES; i++) {
            producer.send(new ProducerRecord<>(OdinTopics.TRADES, "HEAVY", "{\"i\":" + i + ",\"pad\":\"" + pad + "\"}"));
          }
          producer.flush();
          Await.until("the server took the heavy records", Duration.ofSeconds(20),
              () -> server.server.ingest().received() - received >= HEAVY_MESSAGES);

          // Same traffic as the baseline, while the slow client sits over its bound within its grace.
          slowPhaseP99 = publishAndMeasure(producer, readers, "slow");
          assertEquals(0, server.slots().get(0).stats().slowClientsClosed(), "measured while the slow client was still connected");
          Await.until("the slow client is closed after its grace", Duration.ofSeconds(20),
              () -> server.slots().get(0).stats().slowClientsClosed() == 1);

          // Reading now, the slow client finds its backlog and then the close frame.
          slow.socket.setSoTimeout(10_000);
          RawWsClient.Frame close = slow.readUntil(0x8);
          if (close != null) {
            assertEquals(1008, close.closeCode());
            assertEquals("Client too slow to process messages",
                new String(Arrays.copyOfRange(close.payload(), 2, close.payload().length), StandardCharsets.UTF_8));
          }
        }
        // A second baseline, now that the slow client is gone: the machine's own noise moves over a
        // run, so the comparison is against the larger of the two. If the slow client were the cause,
        // this one would be low and the comparison would still fail.
        long afterP99 = publishAndMeasure(producer, readers, "after");
        long baseline = Math.max(baselineP99, afterP99);
        System.out.println("slow-client test: p99 " + baselineP99 + " ms before, " + slowPhaseP99 + " ms with the slow client, "
            + afterP99 + " ms after");
        // 2x the baseline, with a 25 ms floor: on a shared 2-core machine a baseline of a few ms is noise.
        assertTrue(slowPhaseP99 <= 2 * Math.max(baseline, 25),
            "healthy readers' p99 " + slowPhaseP99 + " ms with a slow client vs baseline " + baseline + " ms");

        // Its queued frames were released: pooled direct memory is back near where it was.
        Await.until("queued frames released", Duration.ofSeconds(10),
            () -> PooledByteBufAllocator.DEFAULT.metric().usedDirectMemory() - directBefore < 16L << 20,
            () -> "used direct " + (PooledByteBufAllocator.DEFAULT.metric().usedDirectMemory() >> 20) + " MiB");
        for (WsTestClient r : readers) {
          assertEquals(3 * HOT_MESSAGES, r.data().size(), "every healthy reader got every message");
          assertNull(r.closeCode);
        }
      } finally {
        clientVertx.close().await(10, TimeUnit.SECONDS);
      }
    }
  }

  /** Publishes HOT_MESSAGES small records to HOT.trade, ~1 ms apart; returns the readers' p99 of (arrival - server ts) in ms. */
  private static long publishAndMeasure(KafkaProducer<String, String> producer, List<WsTestClient> readers, String phase) throws Exception {
    int before = readers.get(0).dataCount();
    for (int i = 0; i < HOT_MESSAGES; i++) {
      producer.send(new ProducerRecord<>(OdinTopics.TRADES, "HOT", "{\"phase\":\"" + phase + "\",\"i\":" + i + "}"));
      if (i % 10 == 9) {
        producer.flush();
        Thread.sleep(10); // pacing: a steady stream rather than one burst
      }
    }
    producer.flush();
    Await.until(phase + ": every reader has the messages", Duration.ofSeconds(30),
        () -> readers.stream().allMatch(r -> r.dataCount() >= before + HOT_MESSAGES));
    List<Long> latencies = new ArrayList<>();
    for (WsTestClient r : readers) {
      List<WsTestClient.Received> data = r.data();
      for (int i = before; i < data.size(); i++) {
        latencies.add(data.get(i).arrivedMillis() - data.get(i).json().getLong("ts"));
      }
    }
    latencies.sort(null);
    return latencies.get((int) (latencies.size() * 0.99));
  }
}
