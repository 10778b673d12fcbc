package io.odinws.it;

import io.odinws.testkit.Await;
import io.odinws.testkit.EmbeddedKafka;
import io.odinws.testkit.OdinTopics;
import io.odinws.tools.token.TokenMinter;
import io.vertx.core.Future;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What the authentication tests share: a WebSocket client that presents a token on its upgrade (header or
 * query) and keeps every text frame and its close, raw HTTP exchanges for refused upgrades, /metrics reads,
 * the test's own topics, and keys.
 */
final class AuthWs {

  /** An HS256 secret of more than 32 bytes. */
  static final byte[] SECRET = "an-integration-test-secret-of-more-than-32-bytes".getBytes(StandardCharsets.US_ASCII);
  static final Duration WITHIN = Duration.ofSeconds(30);

  private AuthWs() {
  }

  /** Topics of one test class: a public trade topic, a public liquidity topic and a private balances topic. */
  record Topics(String trades, String liquidity, String balances) {
    static Topics create(EmbeddedKafka kafka) {
      String suffix = UUID.randomUUID().toString().substring(0, 8);
      Topics t = new Topics("auth.trades." + suffix, "auth.liquidity." + suffix, "auth.balances." + suffix);
      kafka.createTopics(Map.of(t.trades, 1, t.liquidity, 1, t.balances, 1));
      return t;
    }

    JsonObject kafka() {
      return new JsonObject().put("topics", new JsonObject().put(trades, "trade").put(liquidity, "liquidity").put(balances, "balances"));
    }

    JsonObject privateTopics() {
      return new JsonObject().put(balances, List.of("/data/user", "/data/from", "/data/to"));
    }
  }

  static String balance(String user, String marker) {
    return "{\"type\":\"BALANCE_UPDATED\",\"timestamp\":1732000000000,\"data\":{\"user\":\"" + user + "\",\"balance\":\"10\",\"change\":\"" + marker
        + "\"}}";
  }

  static String trade(String marker) {
    return "{\"type\":\"TRADE\",\"data\":{\"price\":\"" + marker + "\"}}";
  }

  /** Produces records to partition 0 of {@code topic}, in order, each acknowledged. */
  static void produce(EmbeddedKafka kafka, String topic, String key, String... values) throws Exception {
    try (KafkaProducer<String, String> producer = OdinTopics.producer(kafka.bootstrap())) {
      for (String v : values) {
        producer.send(new ProducerRecord<>(topic, 0, key, v)).get(30, TimeUnit.SECONDS);
      }
    }
  }

  static long nowSeconds() {
    return System.currentTimeMillis() / 1000;
  }

  static String hs256(JsonObject claims) {
    return TokenMinter.mint("HS256", TokenMinter.hmacKey(SECRET), null, claims);
  }

  static JsonObject claims(String sub, long ttlSeconds, List<String> channels) {
    return TokenMinter.claims(sub, ttlSeconds, channels, null, null, nowSeconds());
  }

  static KeyPair rsa() throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
    g.initialize(2048);
    return g.generateKeyPair();
  }

  static String query(String token) {
    return "/ws?token=" + URLEncoder.encode(token, StandardCharsets.UTF_8);
  }

  // ---- a WebSocket client ---------------------------------------------------------------------

  /** A Vert.x WebSocket over a real socket, keeping every text frame (replies and data) and how it closed. */
  static final class Client implements AutoCloseable {
    /** Held, not read: Vert.x closes a WebSocketClient that is garbage collected, and every socket it opened with it. */
    private final WebSocketClient client;
    final WebSocket ws;
    final List<JsonObject> received = new CopyOnWriteArrayList<>();
    volatile Short closeCode;
    volatile String closeReason;
    volatile long closedAtMillis;

    private Client(WebSocketClient client, WebSocket ws) {
      this.client = client;
      this.ws = ws;
      ws.textMessageHandler(text -> received.add(new JsonObject(text)));
      ws.closeHandler(v -> {
        closeReason = ws.closeReason();
        closedAtMillis = System.currentTimeMillis();
        closeCode = ws.closeStatusCode();
      });
    }

    /** Opens {@code uri} ("/ws", "/ws?token=...") with an Authorization header when {@code authorization} is not null. */
    static Client open(WebSocketClient client, int port, String uri, String authorization) throws Exception {
      WebSocketConnectOptions o = new WebSocketConnectOptions().setHost("127.0.0.1").setPort(port).setURI(uri);
      if (authorization != null) {
        o.addHeader("Authorization", authorization);
      }
      // handlers set where the connect completes, on the socket's loop: frames right behind the 101 (a subscribe on the
      // upgrade's ack) are read in the same pass, and a WebSocket without a handler yet would drop them
      Future<Client> f = client.connect(o).map(w -> new Client(client, w));
      return f.await(30, TimeUnit.SECONDS);
    }

    static Client open(WebSocketClient client, int port) throws Exception {
      return open(client, port, "/ws", null);
    }

    static Client bearer(WebSocketClient client, int port, String token) throws Exception {
      return open(client, port, "/ws", "Bearer " + token);
    }

    void send(String json) {
      ws.writeTextMessage(json);
    }

    JsonObject await(int from, Predicate<JsonObject> match, String what) {
      JsonObject[] found = new JsonObject[1];
      Await.until(what, WITHIN, () -> {
        for (int i = from; i < received.size(); i++) {
          if (match.test(received.get(i))) {
            found[0] = received.get(i);
            return true;
          }
        }
        return false;
      }, () -> "received: " + received + " close: " + closeCode);
      return found[0];
    }

    /** Sends and waits for the first message of {@code type} after it. */
    JsonObject request(String json, String type) {
      int from = received.size();
      send(json);
      return await(from, m -> type.equals(m.getString("type")), "a " + type);
    }

    /** The reply to an auth message: auth_ack or auth_error. */
    JsonObject auth(String token) {
      int from = received.size();
      send(new JsonObject().put("type", "auth").put("data", new JsonObject().put("token", token)).encode());
      return await(from, m -> "auth_ack".equals(m.getString("type")) || "auth_error".equals(m.getString("type")), "auth_ack or auth_error");
    }

    JsonObject subscribe(String... channels) {
      return request(new JsonObject().put("type", "subscribe").put("data", new JsonObject().put("channels", List.of(channels))).encode(),
          "subscription_ack");
    }

    JsonObject heartbeat() {
      return request("{\"type\":\"heartbeat\"}", "pong");
    }

    /** Data messages (with a seq) received so far on {@code channel}. */
    List<JsonObject> data(String channel) {
      return received.stream().filter(m -> m.containsKey("seq") && channel.equals(m.getString("channel"))).toList();
    }

    /** Waits for a data message on {@code channel} whose text contains {@code marker}. */
    JsonObject awaitData(String channel, String marker) {
      return await(0, m -> m.containsKey("seq") && channel.equals(m.getString("channel")) && m.encode().contains(marker),
          "a record on " + channel + " with " + marker);
    }

    boolean hasData(String marker) {
      return received.stream().anyMatch(m -> m.containsKey("seq") && m.encode().contains(marker));
    }

    void awaitClose() {
      Await.until("the server's close", WITHIN, () -> closeCode != null, () -> "received: " + received);
    }

    @Override
    public void close() {
      if (closeCode == null) {
        ws.close();
      }
    }
  }

  // ---- raw HTTP -------------------------------------------------------------------------------

  /** An upgrade request for {@code uri}, with an Authorization header when {@code authorization} is not null. */
  static String upgrade(String uri, String authorization) {
    return RawWsClient.UPGRADE_HEADERS.replace("GET /ws ", "GET " + uri + " ")
        + (authorization == null ? "" : "Authorization: " + authorization + "\r\n") + "\r\n";
  }

  /** An HTTP answer: status line, headers (lower-case names) and body. */
  record Answer(int status, Map<String, String> headers, String body, String raw) {
    static Answer parse(String raw) {
      int end = raw.indexOf("\r\n\r\n");
      assertTrue(end > 0, "no HTTP head: " + raw);
      String[] lines = raw.substring(0, end).split("\r\n");
      Map<String, String> headers = new java.util.HashMap<>();
      for (int i = 1; i < lines.length; i++) {
        int colon = lines[i].indexOf(':');
        headers.put(lines[i].substring(0, colon).trim().toLowerCase(java.util.Locale.ROOT), lines[i].substring(colon + 1).trim());
      }
      return new Answer(Integer.parseInt(lines[0].split(" ")[1]), headers, raw.substring(end + 4), raw);
    }
  }

  /** Writes {@code request} on a new socket and reads the answer until the server closes (or the head of a 101). */
  static Answer exchange(int port, String request) throws IOException {
    try (Socket s = new Socket("127.0.0.1", port)) {
      s.setSoTimeout(30_000);
      s.getOutputStream().write(request.getBytes(StandardCharsets.US_ASCII));
      s.getOutputStream().flush();
      InputStream in = s.getInputStream();
      ByteArrayOutputStream got = new ByteArrayOutputStream();
      byte[] buf = new byte[8192];
      while (true) {
        int n = in.read(buf);
        if (n < 0) {
          break;
        }
        got.write(buf, 0, n);
        String text = got.toString(StandardCharsets.ISO_8859_1);
        if (text.startsWith("HTTP/1.1 101") && text.contains("\r\n\r\n")) {
          break; // an upgraded socket stays open
        }
        int head = text.indexOf("\r\n\r\n");
        Matcher length = Pattern.compile("(?im)^content-length:\\s*(\\d+)").matcher(text);
        if (head > 0 && length.find() && text.length() >= head + 4 + Integer.parseInt(length.group(1))) {
          break; // the whole refusal
        }
      }
      return Answer.parse(got.toString(StandardCharsets.UTF_8));
    }
  }

  // ---- metrics --------------------------------------------------------------------------------

  static String metrics(ServerHarness server) {
    try (Socket s = new Socket("127.0.0.1", server.server.opsPort())) {
      s.setSoTimeout(30_000);
      s.getOutputStream().write("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      String answer = new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertTrue(answer.startsWith("HTTP/1.1 200"), answer);
      return answer;
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /** The value of a sample of {@code name} whose labels contain {@code label}; 0 when there is none. */
  static long metric(String text, String name, String label) {
    Matcher m = Pattern.compile("(?m)^" + Pattern.quote(name) + "(\\{[^}]*\\})? (\\S+)$").matcher(text);
    double sum = 0;
    while (m.find()) {
      String labels = m.group(1);
      if (label == null || labels != null && labels.contains(label)) {
        sum += Double.parseDouble(m.group(2));
      }
    }
    return (long) sum;
  }

  /** How much {@code name}{labels containing {@code label}} grew from {@code before} to {@code after}. */
  static long delta(String before, String after, String name, String label) {
    return metric(after, name, label) - metric(before, name, label);
  }
}
