package io.odinws.it;

import io.odinws.testkit.Await;
import io.odinws.testkit.ClientsBuild;
import io.odinws.testkit.EmbeddedKafka;
import io.odinws.testkit.KafkaBrokerExtension;
import io.odinws.testkit.NodeScript;
import io.odinws.testkit.OdinTopics;
import io.odinws.testkit.ServerProcess;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The TypeScript SDK against the real server (a child JVM, so SIGKILL is real) and a real broker: six SDK clients
 * in Node ({@code clients/js/test/it/follow.mjs}, each behind its own TCP proxy) follow ten exact channels of three
 * topics while records are produced continuously; meanwhile the server is SIGKILLed and restarted (its history is
 * gone: recovery reads Kafka), one client's network black-holes for 10 s (only its heartbeat watchdog can tell, and
 * its reconnects are reset until the window ends: the backoff brings it back), and a live re-shard from three shards
 * to one closes the retired shards' clients with 1012. In the end every
 * application callback has seen exactly the records Kafka holds for its channels, each once, in offset order.
 *
 * <p>Without {@code last_offset} on reconnect the records produced while the server was down (and while client 0
 * was cut off) would be missing; without duplicate suppression client 1 would see twice the data messages its proxy
 * repeats (an overlap the protocol allows: section 12, "Delivering"). Either fails the comparison with Kafka.
 */
@ExtendWith(KafkaBrokerExtension.class)
class SdkRecoveryTest {

  static final int CLIENTS = 6;
  static final int CHANNELS_PER_CLIENT = 4;
  /**
   * Client 0's black hole: several times the watchdog's heartbeatInterval + heartbeatTimeout (3 s, set below) and
   * maxReconnectDelay (2 s), so that the watchdog fires inside it and reconnects are refused before one gets through.
   */
  static final long OFFLINE_MS = 10_000;
  static final Duration STEP = Duration.ofSeconds(60);

  private final SeenPositions seen = new SeenPositions();

  @Test
  @Timeout(value = 5, unit = TimeUnit.MINUTES)
  void everyRecordOnceInOrderThroughKillRestartReshardAndAClientOffline(EmbeddedKafka kafka) throws Exception {
    ClientsBuild.ensureSdkBuilt();
    OdinTopics.createAll(kafka);
    List<ExactChannel> channels = ExactChannel.ofThisRun("SDK", 10);
    JsonArray subscriptions = new JsonArray();
    for (int i = 0; i < CLIENTS; i++) {
      JsonArray mine = new JsonArray();
      for (int j = 0; j < CHANNELS_PER_CLIENT; j++) {
        mine.add(channels.get((3 * i + j) % channels.size()).name());
      }
      subscriptions.add(mine);
    }

    try (ServerProcess server = ServerProcess.start(Path.of("target", "sdk-recovery-test"), kafka.bootstrap(),
        new JsonObject().put("mode", "multi").put("shards", 3));
         NodeScript follow = NodeScript.start("test/it/follow.mjs", List.of(new JsonObject()
             .put("url", server.wsUrl()).put("clients", subscriptions).put("duplicate", new JsonArray().add(1))
             .put("options", new JsonObject().put("heartbeatInterval", 1000).put("heartbeatTimeout", 2000)
                 .put("minReconnectDelay", 200).put("maxReconnectDelay", 2000)).encode()), this::onEvent);
         RecordPump producing = new RecordPump(kafka.bootstrap(), channels)) {
      for (int i = 0; i < CLIENTS; i++) {
        awaitEvent(follow, 0, "connected", i, "client " + i + " connected");
      }
      producing.start();
      Await.until("every client got messages", STEP, () -> seen.total() >= 20L * CLIENTS, seen::summary);

      // SIGKILL mid-stream, and a restart on the same port with an empty history.
      int beforeKill = follow.events().size();
      server.kill();
      for (int i = 0; i < CLIENTS; i++) {
        awaitEvent(follow, beforeKill, "disconnected", i, "client " + i + " saw the kill");
      }
      server.restart();
      for (int i = 0; i < CLIENTS; i++) {
        JsonObject r = awaitEvent(follow, beforeKill, "recovered", i, "client " + i + " recovered after the restart");
        assertTrue(r.getBoolean("recovered") && r.getInteger("replayed") > 0,
            "client " + i + " recovered what was produced while the server was down, from Kafka: " + r);
      }

      // Client 0 black-holed for OFFLINE_MS; meanwhile the re-shard 3 -> 1 retires two shards and their clients get
      // 1012 (client 0's close, if its shard is retired, is swallowed by the black hole: it is offline first).
      int beforeReshard = follow.events().size();
      follow.send("offline 0 " + OFFLINE_MS);
      follow.await("client 0 offline", STEP, beforeReshard, e -> "offline".equals(e.getString("ev")));
      server.writeConf(new JsonObject().put("mode", "single"));
      Await.until("the server re-sharded to one shard", STEP, Duration.ofMillis(200), () -> shards(server) == 1);
      int closed1012 = follow.awaitIndex("a client closed with 1012 by the re-shard", STEP, beforeReshard,
          e -> "disconnected".equals(e.getString("ev")) && e.getInteger("code", 0) == 1012);
      awaitEvent(follow, closed1012, "connected", follow.events().get(closed1012).getInteger("client"),
          "the client closed with 1012 reconnected");
      int dead = follow.awaitIndex("client 0's watchdog noticed the dead connection", STEP, beforeReshard,
          e -> "disconnected".equals(e.getString("ev")) && e.getInteger("client") == 0);
      assertEquals("heartbeat timeout", follow.events().get(dead).getString("reason"),
          "the watchdog, not a close, ended client 0's black-holed connection: " + follow.events().get(dead));
      awaitEvent(follow, dead, "connected", 0, "client 0 back after " + OFFLINE_MS + " ms offline");

      producing.close();
      Map<String, List<String>> truth = new HashMap<>();
      for (ExactChannel c : channels) {
        List<String> positions = c.kafkaPositions(kafka.bootstrap());
        assertEquals(producing.acked(c), positions, c + ": Kafka holds what the producer wrote");
        truth.put(c.name(), positions);
      }
      Await.until("every client reached the last record of each of its channels", STEP, () -> {
        for (int i = 0; i < CLIENTS; i++) {
          for (Object ch : subscriptions.getJsonArray(i)) {
            if (!seen.reached(i, (String) ch, truth.get((String) ch))) {
              return false;
            }
          }
        }
        return true;
      }, seen::summary);
      follow.send("end");
      JsonObject end = follow.await("the script's final report", STEP, e -> "end".equals(e.getString("ev")));

      List<JsonObject> events = follow.events();
      assertEquals(List.of(), events.stream().filter(e -> "gap".equals(e.getString("ev")) || "bad".equals(e.getString("ev"))
          || ("error".equals(e.getString("ev")) && "subscription".equals(e.getString("kind")))).toList(), "no gap, no bad message");
      for (int i = 0; i < CLIENTS; i++) {
        JsonObject report = end.getJsonArray("clients").getJsonObject(i);
        long delivered = 0;
        for (Object o : subscriptions.getJsonArray(i)) {
          String ch = (String) o;
          List<String> mine = seen.of(i, ch);
          assertEquals(truth.get(ch), mine, "client " + i + ", " + ch + ": " + SeenPositions.difference(truth.get(ch), mine));
          assertEquals(truth.get(ch).get(truth.get(ch).size() - 1), report.getJsonObject("positions").getString(ch),
              "client " + i + " keeps the last position of " + ch);
          delivered += mine.size();
        }
        assertEquals(delivered, report.getLong("delivered"), "client " + i + ": every callback reported");
        assertEquals(delivered, report.getLong("clientMessages"), "client " + i + ": the client-level event fired once per message");
      }
      assertTrue(end.getJsonArray("clients").getJsonObject(0).getInteger("refused") > 0,
          "client 0 tried to reconnect while offline (reset) and the backoff brought it back later: " + end);
      assertTrue(end.getJsonArray("clients").getJsonObject(1).getInteger("duplicated") > 0,
          "client 1's proxy repeated data messages, so duplicate suppression was exercised: " + end);
      System.out.println("sdk recovery test: " + seen.summary() + ", produced " + producing.count() + ", final " + end.getJsonArray("clients"));
    }
  }

  private static JsonObject awaitEvent(NodeScript script, int from, String ev, int client, String what) throws InterruptedException {
    return script.await(what, STEP, from, e -> ev.equals(e.getString("ev")) && e.getInteger("client", -1) == client);
  }

  private static int shards(ServerProcess server) {
    try {
      return server.health().getJsonArray("shards").size();
    } catch (Exception e) {
      throw new AssertionError("GET /health on the operations port: " + e, e);
    }
  }

  /** The script's events: messages to {@link #seen}, the rest (few) to the log, for the story of a failure. */
  private void onEvent(JsonObject event) {
    if ("msgs".equals(event.getString("ev"))) {
      seen.add(event);
    } else {
      System.out.println("follow: " + event.encode());
    }
  }
}
