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
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The TypeScript SDK against the real server (a child JVM, so SIGKILL is real) and a real broker: six SDK clients
 * in Node ({@code clients/js/test/it/follow.mjs}, each behind its own TCP proxy) follow ten exact channels of three
 * topics while records are produced continuously; meanwhile the server is SIGKILLed and restarted (its history is
 * gone: recovery reads Kafka), one client's network black-holes for 30 s (only its heartbeat watchdog can tell), and
 * a live re-shard from three shards to one closes the retired shards' clients with 1012. In the end every
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
  static final long OFFLINE_MS = 30_000;
  static final Duration STEP = Duration.ofSeconds(60);

  /** client -> channel -> the positions its application callback saw, in order (filled by the script's reader). */
  private final Map<Integer, Map<String, List<String>>> seen = new HashMap<>();

  @Test
  @Timeout(value = 5, unit = TimeUnit.MINUTES)
  void everyRecordOnceInOrderThroughKillRestartReshardAndAClientOffline(EmbeddedKafka kafka) throws Exception {
    ClientsBuild.ensureSdkBuilt();
    OdinTopics.createAll(kafka);
    List<Channel> channels = channels();
    JsonArray subscriptions = new JsonArray();
    for (int i = 0; i < CLIENTS; i++) {
      JsonArray mine = new JsonArray();
      for (int j = 0; j < CHANNELS_PER_CLIENT; j++) {
        mine.add(channels.get((3 * i + j) % channels.size()).name());
      }
      subscriptions.add(mine);
      seen.put(i, new HashMap<>());
    }

    try (ServerProcess server = ServerProcess.start(Path.of("target", "sdk-recovery-test"), kafka.bootstrap(),
        new JsonObject().put("mode", "multi").put("shards", 3));
         NodeScript follow = NodeScript.start("test/it/follow.mjs", List.of(new JsonObject()
             .put("url", server.wsUrl()).put("clients", subscriptions).put("duplicate", new JsonArray().add(1))
             .put("options", new JsonObject().put("heartbeatInterval", 1000).put("heartbeatTimeout", 2000)
                 .put("minReconnectDelay", 200).put("maxReconnectDelay", 2000)).encode()), this::record);
         Producing producing = new Producing(kafka.bootstrap(), channels)) {
      for (int i = 0; i < CLIENTS; i++) {
        awaitEvent(follow, 0, "connected", i, "client " + i + " connected");
      }
      producing.start();
      Await.until("every client got messages", STEP, () -> total() >= 20L * CLIENTS, this::progress);

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

      // Client 0 black-holed for 30 s; meanwhile the re-shard 3 -> 1 retires two shards and their clients get 1012.
      int beforeReshard = follow.events().size();
      follow.send("offline 0 " + OFFLINE_MS);
      server.writeConf(new JsonObject().put("mode", "single"));
      Await.until("the server re-sharded to one shard", STEP, Duration.ofMillis(200), () -> shards(server) == 1);
      int closed1012 = follow.awaitIndex("a client closed with 1012 by the re-shard", STEP, beforeReshard,
          e -> "disconnected".equals(e.getString("ev")) && e.getInteger("code", 0) == 1012);
      awaitEvent(follow, closed1012, "connected", follow.events().get(closed1012).getInteger("client"),
          "the client closed with 1012 reconnected");
      int dead = follow.awaitIndex("client 0's watchdog noticed the dead connection", STEP, beforeReshard,
          e -> "disconnected".equals(e.getString("ev")) && e.getInteger("client") == 0);
      awaitEvent(follow, dead, "connected", 0, "client 0 back after " + OFFLINE_MS + " ms offline");

      producing.close();
      Map<String, List<String>> truth = new HashMap<>();
      for (Channel c : channels) {
        List<String> positions = new ArrayList<>();
        for (long offset : KafkaTruth.offsets(kafka.bootstrap(), c.topic(), c.partition(), 0, c.token())) {
          positions.add(c.partition() + ":" + offset);
        }
        assertEquals(producing.acked(c), positions, c + ": Kafka holds what the producer wrote");
        truth.put(c.name(), positions);
      }
      Await.until("every client reached the last record of each of its channels", STEP, () -> {
        synchronized (seen) {
          for (int i = 0; i < CLIENTS; i++) {
            for (Object ch : subscriptions.getJsonArray(i)) {
              List<String> mine = seen.get(i).getOrDefault((String) ch, List.of());
              List<String> all = truth.get((String) ch);
              if (mine.isEmpty() || !mine.get(mine.size() - 1).equals(all.get(all.size() - 1))) {
                return false;
              }
            }
          }
          return true;
        }
      }, this::progress);
      follow.send("end");
      JsonObject end = follow.await("the script's final report", STEP, e -> "end".equals(e.getString("ev")));

      List<JsonObject> events = follow.events();
      assertEquals(List.of(), events.stream().filter(e -> "gap".equals(e.getString("ev")) || "bad".equals(e.getString("ev"))
          || ("error".equals(e.getString("ev")) && "subscription".equals(e.getString("kind")))).toList(), "no gap, no bad message");
      synchronized (seen) {
        for (int i = 0; i < CLIENTS; i++) {
          JsonObject report = end.getJsonArray("clients").getJsonObject(i);
          long delivered = 0;
          for (Object o : subscriptions.getJsonArray(i)) {
            String ch = (String) o;
            List<String> mine = seen.get(i).getOrDefault(ch, List.of());
            assertEquals(truth.get(ch), mine, "client " + i + ", " + ch + ": " + difference(truth.get(ch), mine));
            assertEquals(truth.get(ch).get(truth.get(ch).size() - 1), report.getJsonObject("positions").getString(ch),
                "client " + i + " keeps the last position of " + ch);
            delivered += mine.size();
          }
          assertEquals(delivered, report.getLong("delivered"), "client " + i + ": every callback reported");
          assertEquals(delivered, report.getLong("clientMessages"), "client " + i + ": the client-level event fired once per message");
        }
      }
      assertTrue(end.getJsonArray("clients").getJsonObject(1).getInteger("duplicated") > 0,
          "client 1's proxy repeated data messages, so duplicate suppression was exercised: " + end);
      System.out.println("sdk recovery test: " + progress() + ", produced " + producing.count() + ", final " + end.getJsonArray("clients"));
    }
  }

  /** Ten exact channels on three topics, with tokens of this run only (the broker is shared by the test classes). */
  private static List<Channel> channels() {
    String run = Integer.toString(ThreadLocalRandom.current().nextInt(36 * 36 * 36), 36).toUpperCase();
    List<Channel> out = new ArrayList<>();
    for (int t = 0; t < 5; t++) {
      String token = "SDK" + run + "T" + t;
      out.add(new Channel(token, "trade", OdinTopics.TRADES));
      out.add(t < 3 ? new Channel(token, "liquidity", OdinTopics.LIQUIDITY) : new Channel(token, "social", OdinTopics.SOCIAL));
    }
    return out;
  }

  private static JsonObject awaitEvent(NodeScript script, int from, String ev, int client, String what) throws InterruptedException {
    int index = script.awaitIndex(what, STEP, from, e -> ev.equals(e.getString("ev")) && e.getInteger("client", -1) == client);
    return script.events().get(index);
  }

  private static int shards(ServerProcess server) {
    try {
      return server.health().getJsonArray("shards").size();
    } catch (Exception e) {
      throw new AssertionError("GET /health on the operations port: " + e, e);
    }
  }

  /** The script's reader thread: each batch of messages the applications saw. */
  private void record(JsonObject event) {
    if (!"msgs".equals(event.getString("ev"))) {
      return;
    }
    synchronized (seen) {
      Map<String, List<String>> mine = seen.get(event.getInteger("client"));
      for (Object o : event.getJsonArray("msgs")) {
        JsonArray m = (JsonArray) o;
        mine.computeIfAbsent(m.getString(0), k -> new ArrayList<>()).add(m.getString(1));
      }
    }
  }

  private long total() {
    synchronized (seen) {
      return seen.values().stream().flatMap(m -> m.values().stream()).mapToLong(List::size).sum();
    }
  }

  private String progress() {
    synchronized (seen) {
      StringBuilder b = new StringBuilder("delivered per client:");
      seen.forEach((i, m) -> b.append(' ').append(i).append('=').append(m.values().stream().mapToInt(List::size).sum()));
      return b.toString();
    }
  }

  /** What differs, briefly: counts of missing and repeated positions, and the first place the order breaks. */
  private static String difference(List<String> expected, List<String> actual) {
    List<String> missing = new ArrayList<>(expected);
    missing.removeAll(actual);
    long repeated = actual.size() - actual.stream().distinct().count();
    int firstDiff = 0;
    while (firstDiff < Math.min(expected.size(), actual.size()) && expected.get(firstDiff).equals(actual.get(firstDiff))) {
      firstDiff++;
    }
    return "expected " + expected.size() + ", saw " + actual.size() + ", missing " + missing.size()
        + (missing.isEmpty() ? "" : " (first " + missing.get(0) + ")") + ", repeated " + repeated + ", first difference at index "
        + firstDiff;
  }

  /** An exact channel: {@code token.category}, on the category's topic, in the partition Kafka's partitioner gives the token. */
  record Channel(String token, String category, String topic) {
    String name() {
      return token + "." + category;
    }

    int partition() {
      return KafkaTruth.partitionOf(token, OdinTopics.PARTITIONS);
    }
  }

  /** About 100 records a second spread over the channels, from its own thread, until closed; keeps what Kafka acked. */
  private static final class Producing implements AutoCloseable {
    private final KafkaProducer<String, String> producer;
    private final List<Channel> channels;
    private final Map<String, List<String>> acked = new HashMap<>(); // guarded by itself
    private final AtomicReference<Exception> failure = new AtomicReference<>();
    private final Thread thread;
    private volatile boolean running = true;
    private volatile long count;

    Producing(String bootstrap, List<Channel> channels) {
      this.producer = OdinTopics.producer(bootstrap);
      this.channels = channels;
      this.thread = new Thread(this::run, "sdk-recovery-producer");
    }

    void start() {
      thread.start();
    }

    private void run() {
      for (int n = 0; running; n++) {
        Channel c = channels.get(n % channels.size());
        String value = new JsonObject().put("type", "TRADE_EXECUTED").put("timestamp", System.currentTimeMillis())
            .put("data", new JsonObject().put("channel", c.name()).put("n", n).put("price", 1.5).put("amount", 2)).encode();
        // The callbacks of one partition run in offset order.
        producer.send(new ProducerRecord<>(c.topic(), c.token(), value), (meta, e) -> {
          if (e != null) {
            failure.compareAndSet(null, e);
            return;
          }
          synchronized (acked) {
            acked.computeIfAbsent(c.name(), k -> new ArrayList<>()).add(meta.partition() + ":" + meta.offset());
          }
        });
        count = n + 1;
        try {
          Thread.sleep(10); // the production rate, not a wait for anything
        } catch (InterruptedException e) {
          return;
        }
      }
    }

    List<String> acked(Channel c) {
      synchronized (acked) {
        return List.copyOf(acked.getOrDefault(c.name(), List.of()));
      }
    }

    long count() {
      return count;
    }

    /** Stops producing; every record sent is acked when this returns. */
    @Override
    public void close() throws InterruptedException {
      running = false;
      thread.join(10_000);
      producer.flush();
      producer.close(Duration.ofSeconds(10));
      if (failure.get() != null) {
        throw new AssertionError("a record was not written", failure.get());
      }
    }
  }
}
