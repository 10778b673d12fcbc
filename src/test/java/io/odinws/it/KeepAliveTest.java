package io.odinws.it;

import io.odinws.testkit.EmbeddedKafka;
import io.odinws.testkit.KafkaBrokerExtension;
import io.odinws.testkit.OdinTopics;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Pings on the configured interval, between whole messages when messages flow; an idle window without any inbound frame
 * closes with 1001; pongs count as activity.
 */
@ExtendWith({KafkaBrokerExtension.class, VertxExtension.class})
class KeepAliveTest {

  private static final int PING = 0x9;
  private static final int PONG = 0xA;
  private static final int CLOSE = 0x8;
  private static final int TEXT = 0x1;
  private static final int IDLE_MS = 3000;
  private static ServerHarness server;

  @BeforeAll
  @Timeout(value = 120, timeUnit = TimeUnit.SECONDS)
  static void start(EmbeddedKafka kafka, VertxTestContext ctx) {
    OdinTopics.createAll(kafka);
    // Shortened windows (defaults: 25 s ping, 60 s idle); the shard sweeps once a second. The idle window
    // leaves room for a client or server thread that a busy machine does not schedule for a while.
    ServerHarness.deploy(kafka, new JsonObject().put("shards", 1)
        .put("ws", new JsonObject().put("pingIntervalMs", 500).put("idleTimeoutMs", IDLE_MS)))
        .onComplete(ctx.succeeding(h -> {
          server = h;
          ctx.completeNow();
        }));
  }

  @AfterAll
  static void stop(VertxTestContext ctx) {
    ServerHarness.stop(server).onComplete(ctx.succeedingThenComplete());
  }

  @Test
  void aSilentClientIsPingedThenClosedWith1001() throws Exception {
    long t0 = System.nanoTime(); // before the upgrade, the server's last sign of the client
    try (RawWsClient c = RawWsClient.connect(server.port())) {
      c.socket.setSoTimeout(30_000);
      RawWsClient.Frame ping = c.readUntil(PING);
      assertNotNull(ping, "the server pings");
      RawWsClient.Frame close = c.readUntil(CLOSE);
      long waitedMs = (System.nanoTime() - t0) / 1_000_000;
      assertNotNull(close, "the server closes an idle connection with a close frame");
      assertEquals(1001, close.closeCode());
      assertTrue(waitedMs >= IDLE_MS, "not before the idle window: " + waitedMs + " ms"); // a lower bound: slowness cannot break it
    }
  }

  @Test
  void pongsAloneKeepAConnectionOpen() throws Exception {
    try (RawWsClient c = RawWsClient.connect(server.port())) {
      long until = System.nanoTime() + Duration.ofMillis(2 * IDLE_MS + 500).toNanos(); // over twice the idle window
      int pings = 0;
      while (System.nanoTime() < until) {
        RawWsClient.Frame f = c.read();
        assertNotNull(f, "still open");
        assertTrue(f.opcode() != CLOSE, "closed although it answered every ping");
        if (f.opcode() == PING) {
          pings++;
          c.send(PONG, true, f.payload());
        }
      }
      assertTrue(pings >= 3, "pinged repeatedly: " + pings);
      c.sendText("{\"type\":\"heartbeat\"}");
      RawWsClient.Frame reply = c.readUntil(0x1);
      assertEquals("pong", new JsonObject(reply.text()).getString("type"));
    }
  }

  @Test
  void aClientReceivingMessagesIsPingedBetweenThem(EmbeddedKafka kafka) throws Exception {
    ExactChannel channel = ExactChannel.ofThisRun("KA", 1).get(0);
    try (RawWsClient c = RawWsClient.connect(server.port())) {
      c.socket.setSoTimeout(30_000);
      c.sendText(new JsonObject().put("type", "subscribe")
          .put("data", new JsonObject().put("channels", new JsonArray().add(channel.name()))).encode());
      assertEquals("subscription_ack", new JsonObject(c.readUntil(TEXT).text()).getString("type"));
      // The pings go out with the messages' frames, in the same write to the socket: each must still arrive whole.
      try (RecordPump pump = new RecordPump(kafka.bootstrap(), List.of(channel))) {
        pump.start();
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        int pings = 0;
        int messages = 0;
        while (pings < 3 && System.nanoTime() < until) {
          RawWsClient.Frame f = c.read();
          assertNotNull(f, "still open");
          assertTrue(f.fin(), "whole frames only");
          if (f.opcode() == PING) {
            assertEquals(0, f.payload().length);
            pings++;
            c.send(PONG, true, f.payload());
          } else {
            assertEquals(TEXT, f.opcode(), "a message or a ping");
            assertEquals(channel.name(), new JsonObject(f.text()).getString("channel"));
            messages++;
          }
        }
        assertTrue(pings >= 3, "pinged repeatedly: " + pings);
        assertTrue(messages > 0, "messages flowed meanwhile");
      }
    }
  }
}
