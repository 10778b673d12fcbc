package io.odinws.it;

import io.odinws.stats.DisconnectReason;
import io.odinws.testkit.Await;
import io.odinws.testkit.EmbeddedKafka;
import io.odinws.testkit.KafkaBrokerExtension;
import io.odinws.testkit.OdinTopics;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 14, point 1: 200 slow-loris sockets (a valid request line, then one header byte a second) and 200
 * half-open ones (nothing sent), from eight loopback addresses and replaced as the server closes them, for
 * 30 s, while 1,000 healthy WebSocket clients receive what is produced to Kafka. Every hostile socket is
 * closed within the handshake deadline of its accept plus one sweep (a trickle does not extend it), no
 * healthy client misses a record, and the server's sockets come back to the healthy 1,000.
 */
@ExtendWith({KafkaBrokerExtension.class, VertxExtension.class})
class HostileSocketsTest {

  private static final long DEADLINE_MS = 3000;
  /** The deadline, one sweep, and slack for a busy 2-core machine; far below the 30 s a trickle could last. */
  private static final long CLOSED_WITHIN_MS = DEADLINE_MS + 1000 + 5000;
  private static final Duration HOSTILE_FOR = Duration.ofSeconds(30);
  private static final int HEALTHY = 1000;
  private static final int HEALTHY_ADDRESSES = 10;
  private static final int SLOW_LORIS = 200;
  private static final int HALF_OPEN = 200;
  private static final int HOSTILE_ADDRESSES = 8;
  private static final String KEY = "HOSTILE";

  private static EmbeddedKafka kafka;
  private ServerHarness server;

  @BeforeAll
  static void topics(EmbeddedKafka broker) {
    kafka = broker;
    OdinTopics.createAll(kafka);
  }

  @AfterEach
  void stop() throws Exception {
    if (server != null) {
      server.close();
    }
  }

  /**
   * A healthy client: the offsets of the data messages it received, in order. It holds its Vert.x client: Vert.x
   * closes a WebSocketClient once it is garbage collected, and every socket it opened with it (with 1000).
   */
  private record Healthy(WebSocketClient client, WebSocket ws, List<Long> seqs) {
  }

  @Test
  void hostileSocketsAreClosedOnTimeWhileHealthyClientsMissNothing(Vertx vertx) throws Exception {
    server = ServerHarness.start(kafka, new JsonObject().put("mode", "multi").put("shards", 2)
        .put("ws", new JsonObject().put("handshakeTimeoutMs", DEADLINE_MS))
        .put("admission", new JsonObject().put("exemptLoopback", false))); // limits per 127.0.0.x, at the default 200

    List<Healthy> healthy = connectHealthy(vertx);
    assertEquals(HEALTHY, sockets(), "the healthy clients alone");

    List<Long> produced = new ArrayList<>();
    Hostile hostile = new Hostile(server.port());
    try (KafkaProducer<String, String> producer = OdinTopics.producer(kafka.bootstrap())) {
      hostile.open();
      long end = System.nanoTime() + HOSTILE_FOR.toNanos();
      int i = 0;
      long nextRecord = System.nanoTime();
      while (System.nanoTime() < end) {
        hostile.step();
        if (System.nanoTime() >= nextRecord) {
          produced.add(producer.send(new ProducerRecord<>(OdinTopics.TRADES, KEY, "{\"i\":" + i++ + "}")).get(30, TimeUnit.SECONDS).offset());
          nextRecord += TimeUnit.MILLISECONDS.toNanos(500);
        }
      }
      hostile.stopReplacing();
      long drainUntil = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(CLOSED_WITHIN_MS + 10_000);
      while (hostile.open > 0 && System.nanoTime() < drainUntil) {
        hostile.step();
      }
    } finally {
      hostile.close();
    }

    assertEquals(0, hostile.open, "every hostile socket closed by the server");
    assertTrue(hostile.opened >= SLOW_LORIS + HALF_OPEN, "opened " + hostile.opened);
    assertEquals(0, hostile.refused, "no hostile socket was refused: 50 per address, under the limit");
    assertTrue(hostile.lateSlowLoris.get() == 0 && hostile.lateHalfOpen.get() == 0,
        hostile.lateSlowLoris + " slow-loris and " + hostile.lateHalfOpen + " half-open sockets closed later than "
            + CLOSED_WITHIN_MS + " ms after connect; slowest " + hostile.slowestMs + " ms");
    assertTrue(hostile.slowLorisReplaced > SLOW_LORIS, "slow-loris sockets were closed and replaced during the 30 s: "
        + hostile.slowLorisReplaced);
    long timeouts = server.slots().stream().mapToLong(s -> s.stats().handshakeTimeouts()).sum();
    assertEquals(hostile.opened, timeouts, "each hostile socket closed by the handshake deadline");

    Await.until("the server back to the healthy sockets", Duration.ofSeconds(30), () -> sockets() == HEALTHY,
        () -> "sockets " + sockets() + "; " + closes(healthy));
    assertEquals(HEALTHY, server.slots().stream().mapToInt(s -> s.stats().webSockets()).sum());

    Await.until("every healthy client has every record", Duration.ofSeconds(60),
        () -> healthy.stream().allMatch(h -> size(h) >= produced.size()));
    for (Healthy h : healthy) {
      synchronized (h.seqs) {
        assertEquals(produced, h.seqs, "a healthy client received exactly what was produced, in order");
      }
    }
    healthy.forEach(h -> h.ws.close());
  }

  @Test
  void anAddressAtItsLimitGets429AtAcceptAndItsSlotsComeBack() throws Exception {
    server = ServerHarness.start(kafka, new JsonObject().put("shards", 2)
        .put("ws", new JsonObject().put("handshakeTimeoutMs", 120_000)) // the held sockets stay for the whole test
        .put("admission", new JsonObject().put("exemptLoopback", false).put("ipMaxConnections", 20)));
    List<Socket> held = new ArrayList<>();
    try {
      for (int i = 0; i < 20; i++) {
        Socket s = socketFrom("127.0.0.40");
        held.add(s);
        // An answer proves the shard counted it: the router's count moves at accept, before the shard's
        // admission, so without it the 21st could be counted before one of these and be the one let in.
        s.getOutputStream().write("GET /health HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        s.setSoTimeout(30_000);
        assertTrue(RawWsClient.readHead(s.getInputStream()).startsWith("HTTP/1.1 200"), "held socket " + i + " served");
      }
      Await.until("the server holds the 20", Duration.ofSeconds(30), () -> sockets() == 20);
      try (Socket over = socketFrom("127.0.0.40"); Socket other = socketFrom("127.0.0.41")) {
        over.setSoTimeout(30_000);
        String answer = new String(over.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
        assertTrue(answer.startsWith("HTTP/1.1 429 "), answer);
        assertTrue(answer.toLowerCase().contains("\r\nretry-after: "), answer);
        assertTrue(metrics().contains("ws_connection_rate_limited_total{type=\"ip_connections\"} 1.0"), "counted");
        Await.until("another address is served", Duration.ofSeconds(30), () -> sockets() == 21);
      }
      held.remove(0).close();
      Await.until("a slot of the address freed", Duration.ofSeconds(30), () -> sockets() == 19);
      try (Socket again = socketFrom("127.0.0.40")) {
        again.getOutputStream().write("GET /health HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        again.setSoTimeout(30_000);
        InputStream in = again.getInputStream();
        byte[] head = in.readNBytes(12);
        assertEquals("HTTP/1.1 200", new String(head, StandardCharsets.US_ASCII), "the freed slot is usable");
      }
    } finally {
      for (Socket s : held) {
        s.close();
      }
      held.clear();
    }
    Await.until("every socket closed", Duration.ofSeconds(30), () -> sockets() == 0);
    try {
      for (int i = 0; i < 20; i++) {
        held.add(socketFrom("127.0.0.40"));
      }
      Await.until("every slot was given back: 20 more are held", Duration.ofSeconds(30), () -> sockets() == 20);
    } finally {
      for (Socket s : held) {
        s.close();
      }
    }
  }

  @Test
  void aRateRefusalIsAnsweredAfterTheDelayAndHoldsItsPlaceInTheAddressCount() throws Exception {
    int delayMs = 5_000;
    server = ServerHarness.start(kafka, new JsonObject().put("shards", 1).put("admission", new JsonObject()
        .put("enabled", true).put("ipBurst", 1).put("ipPerSecond", 0.001).put("exemptLoopback", false)
        .put("ipMaxConnections", 3).put("rateRefusalDelayMs", delayMs)));
    byte[] upgrade = (RawWsClient.UPGRADE_HEADERS + "\r\n").getBytes(StandardCharsets.US_ASCII);
    try (Socket admitted = socketFrom("127.0.0.42"); Socket waiting = socketFrom("127.0.0.42");
         Socket alsoWaiting = socketFrom("127.0.0.42")) {
      admitted.getOutputStream().write(upgrade);
      admitted.setSoTimeout(30_000);
      assertTrue(RawWsClient.readHead(admitted.getInputStream()).startsWith("HTTP/1.1 101"), "the burst of 1 is admitted");
      long sent = System.nanoTime();
      waiting.getOutputStream().write(upgrade);
      alsoWaiting.getOutputStream().write(upgrade);
      Await.until("both refusals decided", Duration.ofSeconds(30), () -> {
        try {
          return metrics().contains("ws_connection_rate_limited_total{type=\"ip\"} 2.0");
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      });
      // The two waiting sockets still count against the address: a fourth is refused at accept, at once.
      try (Socket over = socketFrom("127.0.0.42")) {
        over.setSoTimeout(30_000);
        String overAnswer = new String(over.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
        assertTrue(overAnswer.startsWith("HTTP/1.1 429 Too Many Requests"), overAnswer);
        assertTrue(overAnswer.contains("Too many connections from this address"), overAnswer);
      }
      assertEquals(0, waiting.getInputStream().available(), "the rate refusal is not answered yet");
      waiting.setSoTimeout(30_000);
      String answer = new String(waiting.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
      long waitedMs = (System.nanoTime() - sent) / 1_000_000;
      assertTrue(answer.startsWith("HTTP/1.1 429 Too Many Requests"), answer);
      assertTrue(answer.contains("Rate limit exceeded"), answer);
      assertTrue(answer.toLowerCase().contains("\r\nretry-after: "), answer);
      assertTrue(waitedMs >= delayMs, "answered after " + waitedMs + " ms, before the " + delayMs + " ms delay");
      alsoWaiting.setSoTimeout(30_000);
      assertTrue(new String(alsoWaiting.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).startsWith("HTTP/1.1 429 "));
    }
    Await.until("every socket closed", Duration.ofSeconds(30), () -> sockets() == 0);
  }

  /** From the operations port: a socket of the public port would count among the shards' sockets. */
  private String metrics() throws Exception {
    return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.server.opsPort() + "/metrics")).build(),
        HttpResponse.BodyHandlers.ofString()).body();
  }

  private Socket socketFrom(String local) throws IOException {
    Socket s = new Socket();
    s.bind(new InetSocketAddress(local, 0));
    s.connect(new InetSocketAddress("127.0.0.1", server.port()));
    return s;
  }

  private int sockets() {
    return server.slots().stream().mapToInt(s -> s.connections().get()).sum();
  }

  /** For a failure's message: why the server closed connections, and how the healthy ones were closed. */
  private String closes(List<Healthy> healthy) {
    StringBuilder why = new StringBuilder("server disconnects:");
    for (DisconnectReason reason : DisconnectReason.values()) {
      long n = server.slots().stream().mapToLong(s -> s.stats().disconnects(reason)).sum();
      if (n > 0) {
        why.append(' ').append(reason).append('=').append(n);
      }
    }
    why.append("; connection errors ").append(server.slots().stream().mapToLong(s -> s.stats().connectionErrors()).sum());
    Map<String, Long> codes = healthy.stream().filter(h -> h.ws.isClosed())
        .collect(Collectors.groupingBy(h -> h.ws.closeStatusCode() + " " + h.ws.closeReason(),
            Collectors.counting()));
    return why.append("; healthy clients closed, by code: ").append(codes).toString();
  }

  private static int size(Healthy h) {
    synchronized (h.seqs) {
      return h.seqs.size();
    }
  }

  private List<Healthy> connectHealthy(Vertx vertx) {
    List<Healthy> all = new ArrayList<>();
    AtomicInteger acks = new AtomicInteger();
    String subscribe = new JsonObject().put("type", "subscribe")
        .put("data", new JsonObject().put("channels", List.of(KEY + ".trade"))).encode();
    List<WebSocketClient> clients = new ArrayList<>();
    for (int a = 0; a < HEALTHY_ADDRESSES; a++) {
      clients.add(vertx.createWebSocketClient(new WebSocketClientOptions().setMaxConnections(HEALTHY)
          .setLocalAddress("127.0.0." + (10 + a))));
    }
    for (int batch = 0; batch < HEALTHY; batch += 100) {
      List<Future<WebSocket>> connecting = new ArrayList<>();
      for (int i = batch; i < batch + 100; i++) {
        connecting.add(clients.get(i % HEALTHY_ADDRESSES).connect(server.port(), "127.0.0.1", "/ws"));
      }
      for (int i = 0; i < connecting.size(); i++) {
        WebSocket ws = connecting.get(i).await();
        Healthy h = new Healthy(clients.get((batch + i) % HEALTHY_ADDRESSES), ws, new ArrayList<>());
        ws.textMessageHandler(text -> {
          JsonObject m = new JsonObject(text);
          if (m.containsKey("seq")) {
            synchronized (h.seqs) {
              h.seqs.add(m.getLong("seq"));
            }
          } else if ("subscription_ack".equals(m.getString("type"))) {
            acks.incrementAndGet();
          }
        });
        ws.writeTextMessage(subscribe);
        all.add(h);
      }
    }
    Await.until("every healthy client subscribed", Duration.ofSeconds(60), () -> acks.get() == HEALTHY,
        () -> acks.get() + " acks");
    return all;
  }

  /**
   * The hostile sockets, on one thread: non-blocking sockets on a selector, each replaced when the server
   * closes it (until {@link #stopReplacing}), its life measured from its connect to its end of stream.
   */
  private static final class Hostile implements AutoCloseable {

    private static final byte[] REQUEST_LINE = "GET /ws HTTP/1.1\r\n".getBytes(StandardCharsets.US_ASCII);

    private final int port;
    private final Selector selector;
    private final ByteBuffer sink = ByteBuffer.allocate(4096);
    private final ByteBuffer oneByte = ByteBuffer.allocate(1);
    private final List<SelectionKey> slowLoris = new ArrayList<>();
    private boolean replacing = true;
    private long lastTrickle = System.nanoTime();
    int opened;
    int open;
    int refused;
    int slowLorisReplaced;
    long slowestMs;
    final AtomicLong lateSlowLoris = new AtomicLong();
    final AtomicLong lateHalfOpen = new AtomicLong();

    /** One socket's kind and connect time. */
    private record Life(boolean slow, long connectedAt, String local) {
    }

    Hostile(int port) throws IOException {
      this.port = port;
      this.selector = Selector.open();
    }

    void open() throws IOException {
      for (int i = 0; i < SLOW_LORIS; i++) {
        connect(true, address(i));
      }
      for (int i = 0; i < HALF_OPEN; i++) {
        connect(false, address(i));
      }
    }

    private static String address(int i) {
      return "127.0.0." + (2 + i % HOSTILE_ADDRESSES);
    }

    private void connect(boolean slow, String local) throws IOException {
      SocketChannel ch = SocketChannel.open();
      ch.bind(new InetSocketAddress(local, 0));
      ch.connect(new InetSocketAddress("127.0.0.1", port)); // blocking: loopback connects at once
      long at = System.nanoTime();
      ch.configureBlocking(false);
      if (slow) {
        ch.write(ByteBuffer.wrap(REQUEST_LINE));
      }
      SelectionKey key = ch.register(selector, SelectionKey.OP_READ, new Life(slow, at, local));
      if (slow) {
        slowLoris.add(key);
      }
      opened++;
      open++;
    }

    /** Reads what the server did for up to 100 ms, and trickles a header byte a second on each slow-loris. */
    void step() throws IOException {
      selector.select(100);
      Iterator<SelectionKey> it = selector.selectedKeys().iterator();
      while (it.hasNext()) {
        SelectionKey key = it.next();
        it.remove();
        SocketChannel ch = (SocketChannel) key.channel();
        int n;
        try {
          sink.clear();
          n = ch.read(sink);
        } catch (IOException reset) {
          n = -1;
        }
        if (n > 0) {
          refused++; // the server only ever answers a hostile socket with a refusal
        }
        if (n < 0) {
          ended(key);
        }
      }
      if (System.nanoTime() - lastTrickle >= TimeUnit.SECONDS.toNanos(1)) {
        lastTrickle = System.nanoTime();
        for (SelectionKey key : List.copyOf(slowLoris)) {
          if (!key.isValid()) {
            continue;
          }
          oneByte.clear();
          oneByte.put((byte) 'a').flip();
          try {
            ((SocketChannel) key.channel()).write(oneByte);
          } catch (IOException gone) {
            ended(key);
          }
        }
      }
    }

    private void ended(SelectionKey key) throws IOException {
      if (!key.isValid()) {
        return;
      }
      Life life = (Life) key.attachment();
      long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - life.connectedAt);
      slowestMs = Math.max(slowestMs, ms);
      if (ms > CLOSED_WITHIN_MS) {
        (life.slow ? lateSlowLoris : lateHalfOpen).incrementAndGet();
      }
      key.cancel();
      key.channel().close();
      open--;
      if (life.slow) {
        slowLoris.remove(key);
      }
      if (replacing) {
        if (life.slow) {
          slowLorisReplaced++;
        }
        connect(life.slow, life.local);
      }
    }

    void stopReplacing() {
      replacing = false;
    }

    @Override
    public void close() throws IOException {
      for (SelectionKey key : selector.keys()) {
        key.channel().close();
      }
      selector.close();
    }
  }
}
