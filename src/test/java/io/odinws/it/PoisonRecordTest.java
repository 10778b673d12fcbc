package io.odinws.it;

import io.odinws.envelope.SkipReason;
import io.odinws.ingest.IngestStats;
import io.odinws.testkit.Await;
import io.odinws.testkit.EmbeddedKafka;
import io.odinws.testkit.KafkaBrokerExtension;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketFrame;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Poison records never reach a client (issue 14, point 5): values that are not strict UTF-8 or not
 * exactly one JSON value, interleaved with valid ones on one channel, reach a strict client neither
 * live nor on a replay from the in-memory history nor on a replay read from Kafka; every valid one does.
 */
@ExtendWith({KafkaBrokerExtension.class, VertxExtension.class})
class PoisonRecordTest {

  /** One partition of its own, taking records above Kafka's default 1 MiB limit (the 1 MiB value plus its batch). */
  private static final String TOPIC = "poison.records";
  private static final int MAX_BYTES = 4 << 20;
  private static final String TOKEN = "PZN";
  private static final String CHANNEL = TOKEN + ".trade";
  private static final HexFormat HEX = HexFormat.of();

  private static EmbeddedKafka kafka;
  private static ServerHarness server;
  private static WebSocketClient wsClient;

  /** In production order: valid and bad values alternate. */
  private static final List<byte[]> VALUES = new ArrayList<>();
  private static final List<byte[]> VALID = new ArrayList<>();
  private static int bad;

  static {
    valid("{\"i\":0,\"s\":\"ascii\"}");
    poison("{\"s\":\"", "c080", "\"}");            // overlong NUL
    valid("{\"i\":1,\"s\":\"é\"}");                 // 2-byte
    poison("{\"s\":\"", "e080af", "\"}");          // overlong '/'
    valid("{\"i\":2,\"s\":\"€\"}");                 // 3-byte
    poison("{\"s\":\"", "eda080", "\"}");          // surrogate U+D800
    valid("{\"i\":3,\"s\":\"😀\"}");                // 4-byte
    poison("{\"s\":\"", "f4908080", "\"}");        // U+110000
    valid(bigJson(4, 1 << 20));                    // 1 MiB
    poison("{\"s\":\"", "f5808080", "\"}");        // never UTF-8
    poison("", "efbbbf", "{\"i\":90}");            // byte-order mark before valid JSON
    poison("{\"s\":\"", "e282", "\"}");            // truncated in the middle
    poison("{\"i\":91,\"s\":\"x\"} ", "f09f98", ""); // truncated at the end
    valid("{\"i\":5,\"s\":\"ÆTHER 取引 🚀 ü\"}");
    poison("", "007b007d", "");                    // {} in UTF-16
    poison("{\"i\":92}", "", " {\"i\":93}");        // two values
    valid("{\"i\":6}");
  }

  private static void valid(String json) {
    valid(json.getBytes(StandardCharsets.UTF_8));
  }

  private static void valid(byte[] value) {
    VALUES.add(value);
    VALID.add(value);
  }

  private static void poison(String before, String hex, String after) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(before.getBytes(StandardCharsets.UTF_8));
    out.writeBytes(HEX.parseHex(hex));
    out.writeBytes(after.getBytes(StandardCharsets.UTF_8));
    VALUES.add(out.toByteArray());
    bad++;
  }

  /** {@code {"i":i,"pad":"xx...x"}} of exactly {@code size} bytes. */
  private static byte[] bigJson(int i, int size) {
    String head = "{\"i\":" + i + ",\"pad\":\"";
    return (head + "x".repeat(size - head.length() - 2) + "\"}").getBytes(StandardCharsets.UTF_8);
  }

  private static JsonObject overrides() {
    return new JsonObject()
        .put("shards", 2)
        .put("kafka", new JsonObject().put("topics", new JsonObject().put(TOPIC, "trade")))
        // the 1 MiB message alone is more than the default high-water mark
        .put("limits", new JsonObject().put("outboundHighWaterBytes", MAX_BYTES));
  }

  @BeforeAll
  @Timeout(value = 120, timeUnit = TimeUnit.SECONDS)
  static void start(EmbeddedKafka broker, Vertx vertx, VertxTestContext ctx) throws Exception {
    kafka = broker;
    try (Admin admin = kafka.createAdmin()) {
      admin.createTopics(List.of(new NewTopic(TOPIC, 1, (short) 1).configs(Map.of("max.message.bytes", String.valueOf(MAX_BYTES)))))
          .all().get(60, TimeUnit.SECONDS);
    }
    ServerHarness.deploy(kafka, overrides()).onComplete(ctx.succeeding(h -> {
      server = h;
      ctx.completeNow();
    }));
    // VertxExtension closes this Vert.x after the class
    wsClient = vertx.createWebSocketClient(new WebSocketClientOptions().setMaxFrameSize(MAX_BYTES).setMaxMessageSize(MAX_BYTES));
  }

  @AfterAll
  static void stop(VertxTestContext ctx) {
    ServerHarness.stop(server).onComplete(ctx.succeedingThenComplete());
  }

  @Test
  void badValuesReachNoClientLiveNorReplayedFromMemoryNorFromKafka() throws Exception {
    IngestStats ingest = server.server.ingest();
    long invalidBefore = invalid(ingest);
    try (FuzzLogCapture log = FuzzLogCapture.attach("io.odinws.envelope.RecordFrames")) {
      run(ingest, invalidBefore, log);
    }
  }

  private void run(IngestStats ingest, long invalidBefore, FuzzLogCapture log) throws Exception {

    StrictClient live = StrictClient.open(wsClient, server.port());
    live.request("{\"type\":\"subscribe\",\"data\":{\"channels\":[\"" + CHANNEL + "\"]}}", "subscription_ack");
    List<RecordMetadata> produced = produceAll();
    Await.until("every valid record delivered live (or a failure)", Duration.ofSeconds(60),
        () -> live.dataCount() >= VALID.size() || !live.failures.isEmpty(), live::state);
    live.assertClean();
    Await.until("every bad record counted as invalid", Duration.ofSeconds(30), () -> invalid(ingest) - invalidBefore >= bad);
    assertEquals(bad, invalid(ingest) - invalidBefore, "each bad record counted once");
    List<JsonObject> liveData = live.data();
    assertDelivered(VALID, liveData, "price:update");
    live.assertClean();
    long firstOffset = produced.get(0).offset();
    assertEquals(firstOffset, liveData.get(0).getLong("seq"));
    String beforeThem = liveData.get(0).getString("pos"); // the first valid record; every bad one is after it
    List<Long> badOffsets = new ArrayList<>();
    for (int i = 0; i < VALUES.size(); i++) {
      if (!VALID.contains(VALUES.get(i))) {
        badOffsets.add(produced.get(i).offset());
      }
    }
    assertSkipsLogged(log, "live", badOffsets);
    live.close();

    // From the in-memory history: the server has every offset since it started.
    long readsBefore = server.server.replayReader().reads();
    StrictClient fromMemory = StrictClient.open(wsClient, server.port());
    JsonObject ack = fromMemory.request(reconnect(beforeThem), "reconnect_ack");
    assertTrue(ack.getBoolean("recovered"), ack.encode());
    assertEquals(VALID.size() - 1, ack.getInteger("messages_replayed"), ack.encode());
    assertDelivered(VALID.subList(1, VALID.size()), fromMemory.data(), "replay:message");
    assertEquals(readsBefore, server.server.replayReader().reads(), "served from memory, not Kafka");
    fromMemory.assertClean();
    fromMemory.close();

    // From Kafka: a fresh instance has no history of them.
    try (ServerHarness fresh = ServerHarness.start(kafka, overrides())) {
      StrictClient fromKafka = StrictClient.open(wsClient, fresh.port());
      JsonObject kafkaAck = fromKafka.request(reconnect(beforeThem), "reconnect_ack");
      assertTrue(kafkaAck.getBoolean("recovered"), kafkaAck.encode());
      assertEquals(VALID.size() - 1, kafkaAck.getInteger("messages_replayed"), kafkaAck.encode());
      assertDelivered(VALID.subList(1, VALID.size()), fromKafka.data(), "replay:message");
      assertTrue(fresh.server.replayReader().reads() > 0, "served from Kafka");
      assertSkipsLogged(log, "replay", badOffsets);
      fromKafka.assertClean();
      fromKafka.close();
    }
  }

  /** One line per bad record with where it is and why, and nothing else (never the value). */
  private static void assertSkipsLogged(FuzzLogCapture log, String source, List<Long> offsets) {
    Pattern line = Pattern.compile("event=kafka_record_skipped source=" + source + " topic=" + Pattern.quote(TOPIC)
        + " partition=0 offset=(\\d+) reason=(invalid_utf8|invalid_json)");
    Set<Long> logged = new HashSet<>();
    for (FuzzLogCapture.Event e : log.matching("source=" + source + " topic=" + TOPIC + " ")) {
      Matcher m = line.matcher(e.message());
      assertTrue(m.matches(), "the whole line: " + e.message());
      logged.add(Long.parseLong(m.group(1)));
    }
    assertEquals(new HashSet<>(offsets), logged, source + " skips logged");
  }

  private static long invalid(IngestStats ingest) {
    return ingest.skipped(SkipReason.INVALID_UTF8) + ingest.skipped(SkipReason.INVALID_JSON);
  }

  private static List<RecordMetadata> produceAll() throws Exception {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrap());
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true"); // one partition, in order
    p.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, String.valueOf(MAX_BYTES));
    p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    List<RecordMetadata> sent = new ArrayList<>();
    try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(p)) {
      for (byte[] value : VALUES) {
        sent.add(producer.send(new ProducerRecord<>(TOPIC, TOKEN, value)).get(30, TimeUnit.SECONDS));
      }
    }
    return sent;
  }

  private static String reconnect(String pos) {
    return new JsonObject().put("type", "reconnect").put("data", new JsonObject().put("client_id", "poison")
        .put("last_offset", new JsonObject().put(CHANNEL, pos))).encode();
  }

  /** Exactly {@code expected}, in order, each value embedded verbatim and of {@code type}. */
  private static void assertDelivered(List<byte[]> expected, List<JsonObject> got, String type) {
    assertEquals(expected.size(), got.size(), "messages: " + got.stream().map(m -> m.getLong("seq")).toList());
    for (int i = 0; i < expected.size(); i++) {
      JsonObject m = got.get(i);
      assertEquals(type, m.getString("type"));
      assertEquals(CHANNEL, m.getString("channel"));
      assertEquals(new JsonObject(new String(expected.get(i), StandardCharsets.UTF_8)), m.getJsonObject("data"), "message " + i);
    }
  }

  /**
   * A client as strict as RFC 6455 section 8.1 asks: a text message that is not valid UTF-8 is a
   * failure (here recorded, and the test fails), and so is one that is not a JSON object.
   */
  private static final class StrictClient {

    final WebSocket ws;
    final List<String> failures = new CopyOnWriteArrayList<>();
    final List<JsonObject> replies = new CopyOnWriteArrayList<>();
    private final List<JsonObject> data = new CopyOnWriteArrayList<>();
    private Buffer fragments;
    volatile Short closeCode;

    private StrictClient(WebSocket ws) {
      this.ws = ws;
      ws.frameHandler(this::onFrame);
      ws.closeHandler(v -> closeCode = ws.closeStatusCode());
    }

    static StrictClient open(WebSocketClient client, int port) throws Exception {
      return client.connect(port, "127.0.0.1", "/ws").map(StrictClient::new).await(30, TimeUnit.SECONDS);
    }

    private void onFrame(WebSocketFrame frame) {
      if (frame.isText()) {
        fragments = frame.binaryData().copy();
      } else if (frame.isContinuation() && fragments != null) {
        fragments.appendBuffer(frame.binaryData());
      } else if (frame.isBinary()) {
        failures.add("binary frame");
        return;
      } else {
        return;
      }
      if (!frame.isFinal()) {
        return;
      }
      byte[] bytes = fragments.getBytes();
      fragments = null;
      String text;
      try {
        CharBuffer chars = StandardCharsets.UTF_8.newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT)
            .decode(ByteBuffer.wrap(bytes));
        text = chars.toString();
      } catch (CharacterCodingException e) {
        failures.add("text frame not valid UTF-8 (" + e + "): " + HEX.formatHex(bytes, 0, Math.min(bytes.length, 200)));
        ws.close((short) 1007);
        return;
      }
      JsonObject json;
      try {
        json = new JsonObject(text);
      } catch (RuntimeException e) {
        failures.add("text frame not a JSON object (" + e.getMessage() + "): " + text.substring(0, Math.min(text.length(), 200)));
        return;
      }
      (json.containsKey("seq") ? data : replies).add(json);
    }

    void send(String text) {
      ws.writeTextMessage(text);
    }

    JsonObject request(String text, String type) {
      int from = replies.size();
      send(text);
      JsonObject[] found = new JsonObject[1];
      Await.until("a " + type + " reply", Duration.ofSeconds(60), () -> {
        for (int i = from; i < replies.size(); i++) {
          if (type.equals(replies.get(i).getString("type"))) {
            found[0] = replies.get(i);
            return true;
          }
        }
        return false;
      }, this::state);
      return found[0];
    }

    int dataCount() {
      return data.size();
    }

    List<JsonObject> data() {
      return List.copyOf(data);
    }

    String state() {
      return "data seqs " + data.stream().map(m -> m.getLong("seq")).toList() + ", replies " + replies + ", failures " + failures
          + ", close " + closeCode;
    }

    void assertClean() {
      assertTrue(failures.isEmpty(), "strict client failures: " + failures);
      assertNull(closeCode, "the connection stayed open");
    }

    void close() {
      ws.close();
    }
  }
}
