package io.odinws.it;

import io.odinws.testkit.Await;
import io.odinws.testkit.EmbeddedKafka;
import io.odinws.testkit.KafkaBrokerExtension;
import io.odinws.testkit.OdinTopics;
import io.odinws.tools.token.TokenMinter;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.utils.Utils;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Issue 15 point 6: 1,000 users authenticated with real HS256 tokens (a third each by the upgrade's
 * {@code Authorization} header, the {@code auth} message and the {@code token} query parameter), 10,000 balance
 * and transfer records shaped like the demo publisher's over a real broker, and public records in between. The
 * ground truth is what was produced (each record's partition and offset from the producer's metadata): every
 * client receives exactly the records it owns (both parties of a transfer), each once, and nothing else, live;
 * after a reconnect with positions (the exact {@code <token>.balances} channels, as wildcards are not
 * recovered); and after a server restart, with the replay read from Kafka. Anonymous clients are refused the
 * private channels and see public records only.
 */
@ExtendWith({KafkaBrokerExtension.class, VertxExtension.class})
class PrivateChannelsTest {

  private static final int USERS = 1000;
  private static final int RECORDS = 10_000;
  private static final int TOKENS = 20;
  private static final int ANONYMOUS = 5;
  /** A public record after every this many private ones. */
  private static final int PUBLIC_EVERY = 25;
  /**
   * Phases: records [0, PHASE_2) before the movers leave, [PHASE_2, PHASE_3) while they are away, [PHASE_3, PHASE_4)
   * during their recovery, the rest after the restart.
   */
  private static final int PHASE_2 = 5000;
  private static final int PHASE_3 = 8500;
  private static final int PHASE_4 = 9600;
  private static final int BALANCE_PARTITIONS = 4;
  private static final int TRADE_PARTITIONS = 2;
  private static final String REFUSED = "private channel: authenticate first";
  private static final Duration WITHIN = Duration.ofSeconds(90);

  private enum Way { HEADER, MESSAGE, QUERY }

  /** A produced record, where Kafka put it, and whose it is (empty for public records). */
  private record Rec(String id, String key, int partition, long offset, Set<String> owners, String value, int phase) {
    boolean isPrivate() {
      return id.startsWith("b:");
    }
  }

  /** A user: its token, how it presents it, and what it subscribes. */
  private record User(int index, String sub, String jwt, Way way, List<String> exact, String pubToken, String publicChannel) {
    String name() {
      return "user#" + index + " (" + sub + ", " + way + ")";
    }

    List<String> channels() {
      List<String> c = new ArrayList<>();
      c.add("*.balances");
      exact.forEach(t -> c.add(t + ".balances"));
      c.add(publicChannel);
      return c;
    }
  }

  /** A data message as received: the record it names, and the embedded value. */
  private record Got(String id, String channel, int partition, long offset, boolean replayed, JsonObject value) {
  }

  // ---- the test ------------------------------------------------------------------------------

  @Test
  void everyRecordReachesExactlyItsOwnersLiveAfterAReconnectAndAfterARestart(EmbeddedKafka kafka, Vertx vertx, @TempDir Path dir)
      throws Exception {
    String suffix = UUID.randomUUID().toString().substring(0, 8);
    String balances = "pc.balances." + suffix;
    String trades = "pc.trades." + suffix;
    kafka.createTopics(Map.of(balances, BALANCE_PARTITIONS, trades, TRADE_PARTITIONS));
    byte[] secret = ("private-channels-test-secret-" + suffix + "-0123456789").getBytes(StandardCharsets.UTF_8);
    Path secretFile = Files.write(dir.resolve("jwt-secret"), secret);
    JsonObject conf = overrides(balances, trades, secretFile);

    Random rnd = new Random(15);
    List<String> tokens = new ArrayList<>();
    for (int t = 0; t < TOKENS; t++) {
      tokens.add("PT" + t);
    }
    List<User> users = users(rnd, tokens, secret);
    String anonToken = tokens.get(7);
    Truth truth = new Truth();
    List<Planned> plan = plan(rnd, users, tokens, balances, trades);

    WebSocketClient wsClient = vertx.createWebSocketClient(new WebSocketClientOptions().setMaxConnections(5000));
    List<Client> opened = new CopyOnWriteArrayList<>();
    try (KafkaProducer<String, String> producer = OdinTopics.producer(kafka.bootstrap())) {
      try (ServerHarness server = ServerHarness.start(kafka, conf)) {
        // ---- 1. 1,000 users, a third by each way; a handful of anonymous clients
        Map<User, Client> first = connectAll(wsClient, server.port(), users, opened);
        List<Client> anonymous = new ArrayList<>();
        for (int a = 0; a < ANONYMOUS; a++) {
          Client c = Client.open(wsClient, plain(server.port(), "/ws"), "anonymous#" + a, null, opened).await(30, TimeUnit.SECONDS);
          JsonObject ack = c.request(subscribe(List.of("*.balances", anonToken + ".balances", anonToken + ".*"), null),
              "subscription_ack").await(30, TimeUnit.SECONDS);
          assertEquals(List.of(anonToken + ".*"), ack.getJsonArray("subscribed").getList(), "anonymous: only the token wildcard: " + ack);
          assertEquals(Map.of("*.balances", REFUSED, anonToken + ".balances", REFUSED), rejections(ack), ack.encode());
          anonymous.add(c);
        }

        // ---- 2. the first half, live
        long ingested = server.server.ingest().received();
        truth.produce(producer, plan, 1);
        awaitComplete("phase 1, live", first, anonymous, users, truth, 1, anonToken);
        Await.until("the server read every record", WITHIN, () -> server.server.ingest().received() - ingested >= truth.count(1));
        long owned = truth.recs.values().stream().filter(r -> r.phase() == 1).mapToLong(r -> r.owners().size()).sum();
        assertEquals(owned, privateDeliveries(server), "private deliveries: one per owner of each record, none to anyone else");

        // ---- 3. a tenth of the users leave part-way, keeping their positions
        List<User> movers = users.stream().filter(u -> u.index() % 10 == 3).toList();
        Map<User, Map<String, String>> positions = new HashMap<>();
        for (User u : movers) {
          positions.put(u, lastPositions(u, first.get(u), truth));
          first.get(u).ws.close().await(30, TimeUnit.SECONDS);
        }
        List<User> stayers = users.stream().filter(u -> !positions.containsKey(u)).toList();
        truth.produce(producer, plan, 2);
        Await.until("the server read the second phase", WITHIN, () -> server.server.ingest().received() - ingested >= truth.count(2));

        // ---- 4. they come back (new sockets, same tokens) and recover their exact channels, while phase 3 flows
        Map<User, Client> second = new LinkedHashMap<>();
        Map<User, Future<JsonObject>> recoveries = new LinkedHashMap<>();
        // first those that subscribe with last_offset: their wildcard and public channel are live from the ack on
        for (User u : movers.stream().filter(PrivateChannelsTest::oneStep).toList()) {
          Client c = open(wsClient, server.port(), u, opened).await(60, TimeUnit.SECONDS);
          second.put(u, c);
          Future<JsonObject> recovered = c.expect("reconnect_ack");
          JsonObject ack = c.request(subscribe(u.channels(), positions.get(u)), "subscription_ack").await(30, TimeUnit.SECONDS);
          assertTrue(rejections(ack).isEmpty(), u.name() + ": " + ack);
          recoveries.put(u, recovered);
        }
        // phase 3 on its way while the others reconnect, so that live records meet replays in progress
        List<java.util.concurrent.Future<RecordMetadata>> phase3 = truth.send(producer, plan, 3);
        for (User u : movers.stream().filter(u -> !oneStep(u)).toList()) {
          Client c = open(wsClient, server.port(), u, opened).await(60, TimeUnit.SECONDS);
          second.put(u, c);
          recoveries.put(u, c.request(reconnect(positions.get(u)), "reconnect_ack")
              .compose(ack -> c.request(subscribe(List.of("*.balances", u.publicChannel()), null), "subscription_ack").map(ack)));
        }
        truth.collect(producer, plan, 3, phase3);
        for (User u : movers) {
          JsonObject ack = recoveries.get(u).await(60, TimeUnit.SECONDS);
          assertTrue(ack.getBoolean("recovered"), u.name() + ": " + ack.encode());
          assertEquals(positions.get(u).keySet(), ack.getJsonObject("channels").fieldNames(), u.name() + ": " + ack.encode());
        }
        awaitComplete("every record, live, to the users who stayed", filter(first, stayers), anonymous, stayers, truth, 3, anonToken);
        int moverReplayed = 0;
        int[] phase3OnRecovered = new int[2]; // replayed, live
        for (User u : movers) {
          moverReplayed += checkRecovered(u, second.get(u), positions.get(u), truth, oneStep(u));
          for (String channel : positions.get(u).keySet()) {
            second.get(u).onChannel(channel).stream().filter(g -> truth.recs.get(g.id()).phase() == 3)
                .forEach(g -> phase3OnRecovered[g.replayed() ? 0 : 1]++);
          }
        }
        System.out.println("private channels: " + USERS + " users, " + plan.size() + " records, phase 1 private deliveries "
            + owned + "; " + movers.size() + " reconnected, replayed " + moverReplayed + ", of phase 3 on recovered channels "
            + phase3OnRecovered[0] + " replayed and " + phase3OnRecovered[1] + " live");

      }
      // ---- 5. a server restart: the new server's history is empty, the replay comes from Kafka
      List<User> recoverers = users.stream().filter(u -> u.index() % 16 == 5).toList();
      try (ServerHarness server = ServerHarness.start(kafka, conf)) {
        Map<User, Map<String, String>> fromStart = new HashMap<>();
        Map<User, Client> third = new LinkedHashMap<>();
        Map<User, Future<JsonObject>> acks = new LinkedHashMap<>();
        for (User u : recoverers) {
          Map<String, String> p = new LinkedHashMap<>();
          u.exact().forEach(t -> p.put(t + ".balances", truth.partitionOf(t) + ":" + (truth.firstOffset(truth.partitionOf(t)) - 1)));
          fromStart.put(u, p);
          Client c = open(wsClient, server.port(), u, opened).await(60, TimeUnit.SECONDS);
          third.put(u, c);
          acks.put(u, c.request(reconnect(p), "reconnect_ack"));
        }
        // someone who owns nothing asks for every channel from the start; an anonymous client asks for one
        User nobody = new User(-1, "0x" + "f".repeat(40), TokenMinter.hs256(secret, "0x" + "f".repeat(40), 600), Way.HEADER,
            tokens, tokens.get(0), tokens.get(0) + ".trade");
        Client stranger = open(wsClient, server.port(), nobody, opened).await(60, TimeUnit.SECONDS);
        Map<String, String> all = new LinkedHashMap<>();
        tokens.forEach(t -> all.put(t + ".balances", truth.partitionOf(t) + ":-1"));
        Future<JsonObject> strangerAck = stranger.request(reconnect(all), "reconnect_ack");
        Client anon = Client.open(wsClient, plain(server.port(), "/ws"), "anonymous-after-restart", null, opened).await(30, TimeUnit.SECONDS);
        String anonChannel = anonToken + ".balances";
        Future<JsonObject> anonAck = anon.request(reconnect(Map.of(anonChannel, truth.partitionOf(anonToken) + ":-1")), "reconnect_ack");
        // the last records while the replays are read from Kafka: held back, then live on the recovered channels
        truth.produce(producer, plan, 4);

        long replayed = 0;
        long received = 0;
        for (User u : recoverers) {
          JsonObject ack = acks.get(u).await(60, TimeUnit.SECONDS);
          assertTrue(ack.getBoolean("recovered"), u.name() + ": " + ack.encode());
          int r = checkRecovered(u, third.get(u), fromStart.get(u), truth, null);
          assertEquals(r, ack.getInteger("messages_replayed"), u.name() + ": replayed counts what was sent: " + ack.encode());
          replayed += r;
          received += third.get(u).dataCount();
        }
        JsonObject strangerResult = strangerAck.await(60, TimeUnit.SECONDS);
        assertTrue(strangerResult.getBoolean("recovered"), strangerResult.encode());
        JsonObject anonResult = anonAck.await(60, TimeUnit.SECONDS).getJsonObject("channels").getJsonObject(anonChannel);
        assertFalse(anonResult.getBoolean("recovered"), anonResult.encode());
        assertEquals(REFUSED, anonResult.getString("error"), anonResult.encode());
        // every owner has its last records, live: the stranger would have had its leaks by now
        assertEquals(List.of(), stranger.data(), "the stranger owns none of the records");
        assertEquals(List.of(), anon.data(), "the anonymous client gets no private record");
        assertEquals(received, privateDeliveries(server), "private deliveries of the new server: the owners' only");
        assertTrue(server.server.replayReader().reads() > 0, "the replays were read from Kafka");
        System.out.println("private channels after a restart: " + recoverers.size() + " users received " + received + ", "
            + replayed + " replayed (read from Kafka in " + server.server.replayReader().reads() + " reads), the rest live");
      }
    } finally {
      for (Client c : opened) {
        c.ws.close();
      }
    }
  }

  // ---- the users and the records -------------------------------------------------------------

  private static JsonObject overrides(String balances, String trades, Path secret) {
    return new JsonObject()
        .put("shards", 2)
        .put("kafka", new JsonObject().put("topics", new JsonObject().put(balances, "balances").put(trades, "trade")))
        .put("auth", new JsonObject().put("mode", "optional").put("hmacSecretFile", secret.toString())
            .put("maxConnectionsPerUser", 2)
            .put("privateTopics", new JsonObject().put(balances, List.of("/data/user", "/data/from", "/data/to"))));
  }

  private static List<User> users(Random rnd, List<String> tokens, byte[] secret) {
    List<User> users = new ArrayList<>();
    Way[] ways = Way.values();
    for (int i = 0; i < USERS; i++) {
      String sub = String.format("0x%040x", 0x5b1c9e0d47L * (i + 1));
      List<String> pool = new ArrayList<>(tokens);
      Collections.shuffle(pool, rnd);
      List<String> exact = List.copyOf(pool.subList(0, 2 + rnd.nextInt(2)));
      String pub = tokens.get(rnd.nextInt(tokens.size()));
      // a tenth follow their public token with the token wildcard, which also carries their own balances of it
      String publicChannel = i % 10 == 0 ? pub + ".*" : pub + ".trade";
      users.add(new User(i, sub, TokenMinter.hs256(secret, sub, 600), ways[i % 3], exact, pub, publicChannel));
    }
    return users;
  }

  /** A record to produce, and the phase it belongs to. */
  private record Planned(String topic, String key, String value, Set<String> owners, int phase) {
  }

  /**
   * Three quarters balances, a quarter transfers between two distinct users, keyed mostly by one of the parties'
   * exact tokens (so that the recovered channels have records to recover), a public record every so often.
   */
  private static List<Planned> plan(Random rnd, List<User> users, List<String> tokens, String balances, String trades) {
    List<Planned> plan = new ArrayList<>();
    long ts = 1_732_000_000_000L;
    for (int i = 0; i < RECORDS; i++) {
      int phase = i < PHASE_2 ? 1 : i < PHASE_3 ? 2 : i < PHASE_4 ? 3 : 4;
      User u = users.get(rnd.nextInt(users.size()));
      JsonObject value;
      Set<String> owners;
      String key;
      if (rnd.nextInt(4) < 3) {
        double change = Math.round(rnd.nextGaussian() * 10000) / 100.0;
        value = new JsonObject().put("type", "BALANCE_UPDATED").put("timestamp", ts + i)
            .put("data", new JsonObject().put("user", u.sub()).put("balance", Math.round(rnd.nextDouble() * 1e6) / 100.0).put("change", change));
        owners = Set.of(u.sub());
        key = rnd.nextInt(5) < 4 ? u.exact().get(rnd.nextInt(u.exact().size())) : tokens.get(rnd.nextInt(tokens.size()));
      } else {
        User v;
        do {
          v = users.get(rnd.nextInt(users.size()));
        } while (v == u);
        StringBuilder hash = new StringBuilder("0x");
        for (int h = 0; h < 4; h++) {
          hash.append(String.format("%016x", rnd.nextLong()));
        }
        value = new JsonObject().put("type", "TRANSFER_COMPLETED").put("timestamp", ts + i)
            .put("data", new JsonObject().put("from", u.sub()).put("to", v.sub()).put("amount", Math.round(rnd.nextDouble() * 1e5) / 100.0)
                .put("txHash", hash.toString()));
        owners = Set.of(u.sub(), v.sub());
        int k = rnd.nextInt(5);
        key = k < 2 ? u.exact().get(rnd.nextInt(u.exact().size()))
            : k < 4 ? v.exact().get(rnd.nextInt(v.exact().size())) : tokens.get(rnd.nextInt(tokens.size()));
      }
      plan.add(new Planned(balances, key, value.encode(), owners, phase));
      if (i % PUBLIC_EVERY == PUBLIC_EVERY - 1) {
        String token = tokens.get(rnd.nextInt(tokens.size()));
        JsonObject trade = new JsonObject().put("type", "TRADE_EXECUTED").put("timestamp", ts + i)
            .put("data", new JsonObject().put("price", rnd.nextInt(100000) / 100.0).put("amount", rnd.nextInt(10000) / 10.0));
        plan.add(new Planned(trades, token, trade.encode(), Set.of(), phase));
      }
    }
    return plan;
  }

  /** What was produced, by id ({@code b:P:O} for balances, {@code t:P:O} for trades). */
  private static final class Truth {
    final Map<String, Rec> recs = new LinkedHashMap<>();
    private final Map<String, Integer> partitionOfKey = new HashMap<>();
    private final Map<Integer, Long> firstOffset = new HashMap<>();

    void produce(KafkaProducer<String, String> producer, List<Planned> plan, int phase) throws Exception {
      collect(producer, plan, phase, send(producer, plan, phase));
    }

    /** Sends a phase's records, in order, without waiting for them. */
    List<java.util.concurrent.Future<RecordMetadata>> send(KafkaProducer<String, String> producer, List<Planned> plan, int phase) {
      List<java.util.concurrent.Future<RecordMetadata>> sent = new ArrayList<>();
      for (Planned p : plan) {
        if (p.phase() == phase) {
          sent.add(producer.send(new ProducerRecord<>(p.topic(), p.key(), p.value())));
        }
      }
      return sent;
    }

    /** Waits for a phase's records and notes where Kafka put them. */
    void collect(KafkaProducer<String, String> producer, List<Planned> plan, int phase, List<java.util.concurrent.Future<RecordMetadata>> sent)
        throws Exception {
      List<Planned> these = plan.stream().filter(p -> p.phase() == phase).toList();
      producer.flush();
      for (int i = 0; i < these.size(); i++) {
        Planned p = these.get(i);
        RecordMetadata m = sent.get(i).get(30, TimeUnit.SECONDS);
        boolean priv = !p.owners().isEmpty();
        String id = (priv ? "b:" : "t:") + m.partition() + ":" + m.offset();
        recs.put(id, new Rec(id, p.key(), m.partition(), m.offset(), p.owners(), p.value(), phase));
        if (priv) {
          Integer before = partitionOfKey.put(p.key(), m.partition());
          assertTrue(before == null || before == m.partition(), "one partition per key: " + p.key());
          firstOffset.merge(m.partition(), m.offset(), Math::min);
        }
      }
    }

    long count(int upToPhase) {
      return recs.values().stream().filter(r -> r.phase() <= upToPhase).count();
    }

    int partitionOf(String token) {
      Integer p = partitionOfKey.get(token);
      return p != null ? p : Utils.toPositive(Utils.murmur2(token.getBytes(StandardCharsets.UTF_8))) % BALANCE_PARTITIONS;
    }

    long firstOffset(int partition) {
      return firstOffset.getOrDefault(partition, 0L);
    }

    /** What a user connected throughout receives up to a phase: its own records, and the public ones of its token. */
    Set<String> expected(User u, int upToPhase) {
      Set<String> ids = new LinkedHashSet<>();
      for (Rec r : recs.values()) {
        if (r.phase() <= upToPhase && (r.isPrivate() ? r.owners().contains(u.sub()) : r.key().equals(u.pubToken()))) {
          ids.add(r.id());
        }
      }
      return ids;
    }

    Set<String> publicOf(String token, int upToPhase) {
      return recs.values().stream().filter(r -> !r.isPrivate() && r.phase() <= upToPhase && r.key().equals(token))
          .map(Rec::id).collect(Collectors.toCollection(LinkedHashSet::new));
    }

    /** A channel's own records of a user after a position, in offset order. */
    List<String> after(User u, String token, int partition, long offset) {
      return recs.values().stream().filter(r -> r.isPrivate() && r.key().equals(token) && r.partition() == partition
              && r.offset() > offset && r.owners().contains(u.sub()))
          .sorted(Comparator.comparingLong(Rec::offset)).map(Rec::id).toList();
    }
  }

  // ---- checks --------------------------------------------------------------------------------

  /** Waits until each client has as many messages as it should, then checks each has exactly those. */
  private static void awaitComplete(String what, Map<User, Client> clients, List<Client> anonymous, List<User> users, Truth truth,
                                    int upToPhase, String anonToken) {
    Map<Client, Set<String>> expected = new LinkedHashMap<>();
    for (User u : users) {
      expected.put(clients.get(u), truth.expected(u, upToPhase));
    }
    Set<String> anonExpected = truth.publicOf(anonToken, upToPhase);
    anonymous.forEach(c -> expected.put(c, anonExpected));
    Await.until(what, WITHIN, Duration.ofMillis(50), () -> expected.entrySet().stream().allMatch(e -> e.getKey().dataCount() >= e.getValue().size()),
        () -> expected.entrySet().stream().filter(e -> e.getKey().dataCount() < e.getValue().size()).limit(5)
            .map(e -> e.getKey().name + " has " + e.getKey().dataCount() + " of " + e.getValue().size()).toList().toString());
    expected.forEach((c, ids) -> assertExactly(what, c, ids, truth));
  }

  /** Exactly {@code ids}, each once, in offset order per channel, each frame carrying its record's value. */
  private static void assertExactly(String what, Client c, Set<String> ids, Truth truth) {
    List<Got> got = c.data();
    assertOnlyOwnOnce(what, c, got, truth);
    Set<String> received = got.stream().map(Got::id).collect(Collectors.toSet());
    Set<String> missing = new LinkedHashSet<>(ids);
    missing.removeAll(received);
    Set<String> extra = new LinkedHashSet<>(received);
    extra.removeAll(ids);
    if (!missing.isEmpty() || !extra.isEmpty()) {
      fail(what + ": " + c.name + " missing " + missing.size() + " " + missing.stream().limit(5).toList()
          + ", unexpected " + extra.size() + " " + extra.stream().limit(5).map(truth.recs::get).toList());
    }
  }

  /** No record of someone else (a leak), none twice, in offset order per channel, the frame's value the record's. */
  private static void assertOnlyOwnOnce(String what, Client c, List<Got> got, Truth truth) {
    Set<String> seen = new HashSet<>();
    Map<String, Long> lastOffset = new HashMap<>();
    for (Got g : got) {
      Rec r = truth.recs.get(g.id());
      if (r == null) {
        fail(what + ": " + c.name + " received " + g.id() + " on " + g.channel() + ", which this test never produced");
      }
      if (r.isPrivate() && (c.sub == null || !r.owners().contains(c.sub))) {
        fail(what + ": LEAK: " + c.name + " received record " + g.id() + " on " + g.channel() + " owned by " + r.owners());
      }
      if (!seen.add(g.id())) {
        fail(what + ": " + c.name + " received record " + g.id() + " twice");
      }
      assertEquals(new JsonObject(r.value()), g.value(), what + ": " + c.name + ": the frame of " + g.id() + " carries that record's value");
      assertEquals(r.key() + (r.isPrivate() ? ".balances" : ".trade"), g.channel(), what + ": " + c.name + ": the channel of " + g.id());
      Long last = lastOffset.put(g.channel() + "@" + g.partition(), g.offset());
      assertTrue(last == null || last < g.offset(), what + ": " + c.name + ": " + g.id() + " after offset " + last + " on " + g.channel());
    }
  }

  /**
   * After a recovery from {@code positions}: on each recovered channel exactly the user's records after its position,
   * replayed then live; everything else the connection received is its own, once. Returns how many were replayed.
   *
   * @param phase3WildcardsLive null: the connection subscribed nothing else; false: its wildcard and public channel
   *                            came back during phase 3 (some of it received); true: before phase 3 (all of it received)
   */
  private static int checkRecovered(User u, Client c, Map<String, String> positions, Truth truth, Boolean phase3WildcardsLive) {
    String what = "recovery of " + u.name();
    Map<String, List<String>> expected = new LinkedHashMap<>();
    positions.forEach((channel, pos) -> {
      int colon = pos.indexOf(':');
      expected.put(channel, truth.after(u, channel.substring(0, channel.lastIndexOf('.')),
          Integer.parseInt(pos.substring(0, colon)), Long.parseLong(pos.substring(colon + 1))));
    });
    Await.until(what, WITHIN, Duration.ofMillis(20),
        () -> expected.entrySet().stream().allMatch(e -> c.onChannel(e.getKey()).size() >= e.getValue().size()),
        () -> expected.keySet().stream().map(ch -> ch + " " + c.onChannel(ch).size() + " of " + expected.get(ch).size()).toList().toString());
    assertOnlyOwnOnce(what, c, c.data(), truth);
    int replayed = 0;
    for (Map.Entry<String, List<String>> e : expected.entrySet()) {
      List<Got> on = c.onChannel(e.getKey());
      assertEquals(e.getValue(), on.stream().map(Got::id).toList(),
          what + ": " + e.getKey() + " after " + positions.get(e.getKey()) + ": exactly the owner's records, in order, once");
      boolean live = false;
      for (Got g : on) {
        assertFalse(live && g.replayed(), what + ": " + g.id() + " replayed after live messages of " + e.getKey());
        live |= !g.replayed();
        replayed += g.replayed() ? 1 : 0;
      }
    }
    // Besides the recovered channels: with its wildcard and public channel back, its records of phase 3, live
    Set<String> phase3 = new LinkedHashSet<>(truth.expected(u, 3));
    phase3.removeAll(truth.expected(u, 2));
    Set<String> allowed = new HashSet<>(phase3);
    expected.values().forEach(allowed::addAll);
    Set<String> received = c.data().stream().map(Got::id).collect(Collectors.toCollection(LinkedHashSet::new));
    Set<String> unexpected = new LinkedHashSet<>(received);
    unexpected.removeAll(phase3WildcardsLive == null ? Set.copyOf(expected.values().stream().flatMap(List::stream).toList()) : allowed);
    assertTrue(unexpected.isEmpty(), what + ": unexpected records " + unexpected.stream().limit(5).map(truth.recs::get).toList());
    if (Boolean.TRUE.equals(phase3WildcardsLive)) {
      // its *.balances and public channel were live before phase 3 was sent: all of phase 3 is there too
      Set<String> missing = new LinkedHashSet<>(phase3);
      missing.removeAll(received);
      assertTrue(missing.isEmpty(), what + ": live records of phase 3 missing: " + missing);
    }
    return replayed;
  }

  private static boolean oneStep(User u) {
    return (u.index() / 10) % 2 == 0;
  }

  private static Map<String, String> lastPositions(User u, Client c, Truth truth) {
    Map<String, String> positions = new LinkedHashMap<>();
    for (String token : u.exact()) {
      String channel = token + ".balances";
      List<Got> on = c.onChannel(channel);
      String pos = on.isEmpty() ? c.ackPositions.getString(channel) : on.get(on.size() - 1).partition() + ":" + on.get(on.size() - 1).offset();
      positions.put(channel, pos != null ? pos : truth.partitionOf(token) + ":-1");
    }
    return positions;
  }

  private static Map<String, String> rejections(JsonObject ack) {
    Map<String, String> out = new LinkedHashMap<>();
    JsonArray rejected = ack.getJsonArray("rejected", new JsonArray());
    for (int i = 0; i < rejected.size(); i++) {
      out.put(rejected.getJsonObject(i).getString("channel"), rejected.getJsonObject(i).getString("reason"));
    }
    return out;
  }

  private static long privateDeliveries(ServerHarness server) {
    return server.slots().stream().mapToLong(s -> s.stats().privateDeliveries()).sum();
  }

  private static <K, V> Map<K, V> filter(Map<K, V> map, List<K> keys) {
    Map<K, V> out = new LinkedHashMap<>();
    keys.forEach(k -> out.put(k, map.get(k)));
    return out;
  }

  // ---- connecting ----------------------------------------------------------------------------

  /** Every user connected, authenticated and subscribed, a hundred at a time. */
  private static Map<User, Client> connectAll(WebSocketClient ws, int port, List<User> users, List<Client> opened) throws Exception {
    Map<User, Client> out = new LinkedHashMap<>();
    for (int from = 0; from < users.size(); from += 100) {
      List<User> batch = users.subList(from, Math.min(users.size(), from + 100));
      List<Future<Client>> ready = new ArrayList<>();
      for (User u : batch) {
        ready.add(open(ws, port, u, opened).compose(c -> c.request(subscribe(u.channels(), null), "subscription_ack").map(ack -> {
          if (!rejections(ack).isEmpty() || !ack.getJsonArray("subscribed").getList().containsAll(u.channels())) {
            throw new AssertionError(u.name() + ": every channel accepted: " + ack.encode());
          }
          c.ackPositions = ack.getJsonObject("positions", new JsonObject());
          return c;
        })));
      }
      Future.all(ready).await(120, TimeUnit.SECONDS);
      for (int i = 0; i < batch.size(); i++) {
        out.put(batch.get(i), ready.get(i).result());
      }
    }
    return out;
  }

  /** A new socket for the user, authenticated its way (for the message, after auth_ack). */
  private static Future<Client> open(WebSocketClient ws, int port, User u, List<Client> opened) {
    WebSocketConnectOptions o = plain(port, "/ws");
    if (u.way() == Way.HEADER) {
      o.addHeader("Authorization", "Bearer " + u.jwt());
    } else if (u.way() == Way.QUERY) {
      o.setURI("/ws?token=" + u.jwt());
    }
    Future<Client> c = Client.open(ws, o, u.name(), u.sub(), opened);
    if (u.way() != Way.MESSAGE) {
      return c;
    }
    return c.compose(client -> client.request(new JsonObject().put("type", "auth").put("data", new JsonObject().put("token", u.jwt())).encode(),
        "auth_ack", "auth_error").map(ack -> {
          if (!"auth_ack".equals(ack.getString("type")) || !u.sub().equals(ack.getString("sub"))) {
            throw new AssertionError(u.name() + ": auth_ack for its sub: " + ack.encode());
          }
          return client;
        }));
  }

  private static WebSocketConnectOptions plain(int port, String uri) {
    return new WebSocketConnectOptions().setHost("127.0.0.1").setPort(port).setURI(uri);
  }

  private static String subscribe(List<String> channels, Map<String, String> lastOffset) {
    JsonObject data = new JsonObject().put("channels", new JsonArray(channels));
    if (lastOffset != null) {
      data.put("last_offset", new JsonObject(new HashMap<>(lastOffset)));
    }
    return new JsonObject().put("type", "subscribe").put("data", data).encode();
  }

  private static String reconnect(Map<String, String> positions) {
    return new JsonObject().put("type", "reconnect").put("data", new JsonObject().put("client_id", "private-channels")
        .put("last_offset", new JsonObject(new HashMap<>(positions)))).encode();
  }

  /** One socket: the data messages it received, and replies awaited by type. */
  private static final class Client {
    final String name;
    /** The user it authenticates as; null for anonymous clients. */
    final String sub;
    /** Held, not read: Vert.x closes a WebSocketClient that is garbage collected, and every socket it opened with it. */
    private final WebSocketClient client;
    final WebSocket ws;
    volatile JsonObject ackPositions = new JsonObject();
    private final List<Got> data = new ArrayList<>();
    /** Guarded by itself: replies not yet claimed by a waiter are dropped (the test awaits what it asks for). */
    private final List<Waiter> waiters = new ArrayList<>();

    private record Waiter(Predicate<String> type, Promise<JsonObject> promise) {
    }

    private Client(String name, String sub, WebSocketClient client, WebSocket ws) {
      this.name = name;
      this.client = client;
      this.sub = sub;
      this.ws = ws;
      ws.textMessageHandler(this::onText);
    }

    static Future<Client> open(WebSocketClient client, WebSocketConnectOptions options, String name, String sub, List<Client> opened) {
      return client.connect(options).map(ws -> {
        Client c = new Client(name, sub, client, ws);
        opened.add(c);
        return c;
      });
    }

    private void onText(String text) {
      JsonObject m = new JsonObject(text);
      String channel = m.getString("channel");
      if (m.containsKey("seq") && channel != null) {
        String pos = m.getString("pos");
        int colon = pos.indexOf(':');
        String prefix = channel.endsWith(".balances") ? "b:" : "t:";
        Got g = new Got(prefix + pos, channel, Integer.parseInt(pos.substring(0, colon)), Long.parseLong(pos.substring(colon + 1)),
            "replay:message".equals(m.getString("type")), m.getJsonObject("data"));
        synchronized (data) {
          data.add(g);
        }
        return;
      }
      String type = m.getString("type");
      synchronized (waiters) {
        for (int i = 0; i < waiters.size(); i++) {
          if (waiters.get(i).type().test(type)) {
            waiters.remove(i).promise().complete(m);
            return;
          }
        }
      }
    }

    /** The next reply of one of {@code types}; registered before anything is sent that may cause it. */
    Future<JsonObject> expect(String... types) {
      Set<String> set = Set.of(types);
      Promise<JsonObject> p = Promise.promise();
      synchronized (waiters) {
        waiters.add(new Waiter(set::contains, p));
      }
      return p.future();
    }

    Future<JsonObject> request(String json, String... types) {
      Future<JsonObject> reply = expect(types);
      ws.writeTextMessage(json);
      return reply;
    }

    List<Got> data() {
      synchronized (data) {
        return List.copyOf(data);
      }
    }

    List<Got> onChannel(String channel) {
      synchronized (data) {
        return data.stream().filter(g -> g.channel().equals(channel)).toList();
      }
    }

    int dataCount() {
      synchronized (data) {
        return data.size();
      }
    }

    @Override
    public String toString() {
      return name;
    }
  }
}
