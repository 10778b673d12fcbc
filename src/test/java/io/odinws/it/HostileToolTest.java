package io.odinws.it;

import io.odinws.testkit.EmbeddedKafka;
import io.odinws.testkit.KafkaBrokerExtension;
import io.odinws.testkit.OdinTopics;
import io.odinws.tools.hostile.HostileCommand;
import io.odinws.tools.hostile.HostileRun;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The bench's hostile tool ({@code odin-ws hostile}) against a real server: every kind opens sockets and every socket
 * gets exactly one fate, and the fates the server's defences produce are recorded under their reason. Here, not under
 * tools/, because {@link ServerHarness} is this package's.
 */
@ExtendWith({KafkaBrokerExtension.class, VertxExtension.class})
class HostileToolTest {

  private static ServerHarness server;

  @BeforeAll
  @Timeout(value = 120, timeUnit = TimeUnit.SECONDS)
  static void start(EmbeddedKafka kafka, VertxTestContext ctx) {
    OdinTopics.createAll(kafka);
    // Short deadlines so that every defence acts within the run: a 1 s handshake timeout, a 1 KiB message limit, a
    // 1 s flood window; per-address connection rate 4 then 1/s, loopback not exempt (a key today's main ignores).
    ServerHarness.deploy(kafka, new JsonObject()
            .put("shards", 1)
            .put("ws", new JsonObject().put("handshakeTimeoutMs", 1000).put("maxMessageBytes", 1024))
            .put("limits", new JsonObject().put("floodSeconds", 1))
            .put("admission", new JsonObject().put("enabled", true).put("ipBurst", 4).put("ipPerSecond", 1)
                .put("exemptLoopback", false)))
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
  void everyKindsSocketsGetOneFateEachUnderItsReason() throws Exception {
    JsonObject summary = HostileRun.run(HostileCommand.parse(new String[] {
        "--url", "ws://127.0.0.1:" + server.port() + "/ws", "--source-addresses", "127.0.1.1-127.0.1.2",
        "--slow-loris", "2", "--half-open", "2", "--flood", "2", "--reconnect", "2", "--oversize", "2",
        "--duration", "6", "--ramp", "100", "--pause-ms", "200", "--trickle-ms", "100", "--flood-rate", "400",
        "--oversize-bytes", "4096"}));
    JsonObject kinds = summary.getJsonObject("kinds");
    for (String kind : new String[] {"slow_loris", "half_open", "flood", "reconnect", "oversize"}) {
      JsonObject k = kinds.getJsonObject(kind);
      assertEquals(2, k.getInteger("slots"), kind);
      assertTrue(k.getLong("sockets") >= 2, kind + ": " + k);
      assertEquals(k.getLong("sockets"), k.getLong("fates_counted"), kind + ": one fate per socket: " + k);
    }
    // handshake timeout: a socket that sends nothing is closed by the server, and opened again by its slot
    assertTrue(count(kinds, "half_open", "closed_by_server_before_upgrade") >= 2, kinds.encode());
    // the flood detector's close, the message limit's close
    assertTrue(count(kinds, "flood", "close_1008") >= 1, kinds.encode());
    assertTrue(count(kinds, "oversize", "close_1009") >= 1, kinds.encode());
    // a reconnect loop: its own closes answered, then the per-address rate limit's refusals
    assertTrue(count(kinds, "reconnect", "client_close_echoed") >= 1, kinds.encode());
    assertTrue(count(kinds, "reconnect", "http_429") >= 1, kinds.encode());
    assertTrue(kinds.getJsonObject("flood").getLong("messages_sent") > 0, kinds.encode());
  }

  private static long count(JsonObject kinds, String kind, String fate) {
    JsonObject f = kinds.getJsonObject(kind).getJsonObject("fates").getJsonObject(fate);
    return f == null ? 0 : f.getLong("count");
  }
}
