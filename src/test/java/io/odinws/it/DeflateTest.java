package io.odinws.it;

import io.odinws.testkit.Await;
import io.odinws.testkit.EmbeddedKafka;
import io.odinws.testkit.KafkaBrokerExtension;
import io.odinws.testkit.OdinTopics;
import io.vertx.core.json.JsonObject;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.ThreadLocalRandom;
import java.util.zip.Deflater;
import java.util.zip.Inflater;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * permessage-deflate over real sockets (PROTOCOL.md sections 1 and 10): the negotiation answers, compressed
 * messages both ways, one compressed frame per message whatever the receivers, the zip bomb and RSV1 refusals.
 */
@ExtendWith(KafkaBrokerExtension.class)
class DeflateTest {

  private static final String ANSWER = "permessage-deflate; server_no_context_takeover; client_no_context_takeover";
  private static final int MIN_BYTES = 256;
  private static EmbeddedKafka kafka;
  private static ServerHarness server;
  private static ServerHarness disabled;

  @BeforeAll
  static void start(EmbeddedKafka broker) throws Exception {
    kafka = broker;
    OdinTopics.createAll(kafka);
    server = ServerHarness.start(kafka, new JsonObject().put("mode", "multi").put("shards", 2)
        .put("ws", new JsonObject().put("compression", new JsonObject().put("enabled", true).put("minBytes", MIN_BYTES).put("level", 1))));
    disabled = ServerHarness.start(kafka, new JsonObject().put("mode", "single")
        .put("ws", new JsonObject().put("compression", new JsonObject().put("enabled", false))));
  }

  @AfterAll
  static void stop() throws Exception {
    ServerHarness.stop(server).await(30, java.util.concurrent.TimeUnit.SECONDS);
    ServerHarness.stop(disabled).await(30, java.util.concurrent.TimeUnit.SECONDS);
  }

  @Test
  void theNegotiationAnswers() throws Exception {
    assertNull(answer(server, null), "no offer");
    assertEquals(ANSWER, answer(server, "permessage-deflate; client_max_window_bits"), "client window bits without a value");
    assertEquals(ANSWER, answer(server, "permessage-deflate; client_max_window_bits=12"), "client window bits with a value");
    assertEquals(ANSWER, answer(server, "permessage-deflate"));
    assertNull(answer(server, "permessage-deflate; x-unknown"), "unknown parameter");
    assertNull(answer(server, "permessage-deflate; client_no_context_takeover; client_no_context_takeover"), "duplicated");
    assertNull(answer(server, "permessage-deflate; server_max_window_bits=10"), "the JDK cannot narrow its window");
    assertEquals(ANSWER + "; server_max_window_bits=15", answer(server, "permessage-deflate; server_max_window_bits=15"));
    assertEquals(ANSWER, answer(server, "permessage-deflate; server_max_window_bits=9, permessage-deflate; client_max_window_bits"),
        "several offers: the first acceptable");
    assertNull(answer(disabled, "permessage-deflate; client_max_window_bits"), "compression disabled");
  }

  @Test
  void compressedSubscribeAndOneCompressedFramePerMessageForEveryReceiver() throws Exception {
    String channel = "DFLT.trade";
    try (Client a = Client.open(server.port(), "permessage-deflate; client_max_window_bits");
         Client b = Client.open(server.port(), "permessage-deflate");
         Client plain = Client.open(server.port(), null)) {
      String subscribe = "{\"type\":\"subscribe\",\"data\":{\"channels\":[\"" + channel + "\"]}}";
      a.sendCompressed(subscribe.getBytes(StandardCharsets.UTF_8)); // a compressed inbound message
      b.sendText(subscribe);
      plain.sendText(subscribe);
      for (Client c : new Client[] {a, b, plain}) {
        Frame ack = c.readData();
        assertEquals(0, ack.rsv(), "replies go uncompressed");
        assertEquals("subscription_ack", new JsonObject(ack.text()).getString("type"), ack.text());
      }
      Await.until("the two connections that negotiated are counted", Duration.ofSeconds(30),
          () -> gauge("ws_compression_connections") == 2);
      long compressedBefore = server.server.ingest().compressed();
      long bytesBefore = server.bytesSent();
      StringBuilder big = new StringBuilder("{\"trades\":[");
      for (int i = 0; i < 40; i++) {
        big.append(i == 0 ? "" : ",").append("{\"price\":\"6").append(1000 + i).append(".25\",\"size\":\"0.0").append(i % 7).append("\",\"side\":\"buy\"}");
      }
      String large = big.append("]}").toString();
      String small = "{\"price\":\"61000.5\"}";
      RecordMetadata first;
      try (KafkaProducer<String, String> producer = OdinTopics.producer(kafka.bootstrap())) {
        first = producer.send(new ProducerRecord<>(OdinTopics.TRADES, "DFLT", large)).get();
        producer.send(new ProducerRecord<>(OdinTopics.TRADES, "DFLT", small)).get();
      }
      Frame aLarge = a.readData();
      Frame aSmall = a.readData();
      Frame bLarge = b.readData();
      Frame bSmall = b.readData();
      Frame pLarge = plain.readData();
      Frame pSmall = plain.readData();
      assertEquals(4, aLarge.rsv(), "a large message goes compressed to a connection that negotiated");
      assertEquals(0, aSmall.rsv(), "a small one does not");
      assertArrayEquals(aLarge.payload(), bLarge.payload(), "the same compressed frame to every such connection");
      assertEquals(0, pLarge.rsv(), "a connection without the extension gets today's frames");
      assertEquals(pLarge.text(), new String(inflate(aLarge.payload()), StandardCharsets.UTF_8), "it inflates to the plain envelope");
      assertEquals(pSmall.text(), aSmall.text());
      assertEquals(pSmall.text(), bSmall.text());
      JsonObject envelope = new JsonObject(pLarge.text());
      assertEquals(new JsonObject(large), envelope.getJsonObject("data"), "the data Kafka holds");
      assertEquals(first.offset(), envelope.getLong("seq"));
      assertTrue(aLarge.payload().length < large.length() / 2, aLarge.payload().length + " bytes for " + large.length());
      assertEquals(1, server.server.ingest().compressed() - compressedBefore,
          "compressed once, at ingest, although two connections (on two shards or one) received it");
      long written = 0;
      for (Frame f : new Frame[] {aLarge, aSmall, bLarge, bSmall, pLarge, pSmall}) {
        written += f.payload().length + (f.payload().length < 126 ? 2 : 4); // the server's frames are unmasked
      }
      long counted = written;
      Await.until("ws_bytes_sent counts the frames as written, compressed ones at their compressed size", Duration.ofSeconds(10),
          () -> server.bytesSent() - bytesBefore == counted);
    }
  }

  /** A gauge of the server's /metrics. */
  private static double gauge(String name) {
    java.net.http.HttpResponse<String> response;
    try {
      response = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
          java.net.URI.create("http://127.0.0.1:" + server.server.opsPort() + "/metrics")).build(),
          java.net.http.HttpResponse.BodyHandlers.ofString());
    } catch (IOException | InterruptedException e) {
      throw new IllegalStateException(e);
    }
    var m = java.util.regex.Pattern.compile("(?m)^" + name + " (\\S+)$").matcher(response.body());
    if (!m.find()) {
      throw new AssertionError(name + " not in /metrics");
    }
    return Double.parseDouble(m.group(1));
  }

  @Test
  void aFragmentedCompressedMessageIsInflatedWhole() throws Exception {
    try (Client c = Client.open(server.port(), "permessage-deflate")) {
      byte[] compressed = Client.compress("{\"type\":\"subscribe\",\"data\":{\"channels\":[\"FRAG.trade\"]}}".getBytes(StandardCharsets.UTF_8));
      int half = compressed.length / 2;
      c.send(0x40 | 0x1, Arrays.copyOf(compressed, half)); // RSV1 on the first frame only, not FIN
      c.send(0x80, Arrays.copyOfRange(compressed, half, compressed.length)); // FIN continuation
      Frame ack = c.readData();
      assertEquals("subscription_ack", new JsonObject(ack.text()).getString("type"), ack.text());
    }
  }

  @Test
  void rsv1OnAContinuationFrameClosesWith1002() throws Exception {
    try (Client c = Client.open(server.port(), "permessage-deflate")) {
      byte[] compressed = Client.compress("{\"type\":\"heartbeat\"}".getBytes(StandardCharsets.UTF_8));
      c.send(0x40 | 0x1, Arrays.copyOf(compressed, 3));
      c.send(0x80 | 0x40, Arrays.copyOfRange(compressed, 3, compressed.length)); // RSV1 again: not allowed
      Frame close = c.readUntilClose();
      assertNotNull(close);
      assertEquals(1002, close.closeCode());
    }
  }

  @Test
  void corruptCompressedDataClosesWith1007() throws Exception {
    try (Client c = Client.open(server.port(), "permessage-deflate")) {
      c.send(0x80 | 0x40 | 0x1, new byte[] {(byte) 0xFF, (byte) 0xFF, (byte) 0xFF, 0x01, 0x02});
      Frame close = c.readUntilClose();
      assertNotNull(close);
      assertEquals(1007, close.closeCode());
    }
  }

  @Test
  void aCompressedMessageThatIsNotUtf8ClosesWith1007() throws Exception {
    try (Client c = Client.open(server.port(), "permessage-deflate")) {
      c.sendCompressed(new byte[] {'{', (byte) 0xED, (byte) 0xA0, (byte) 0x80, '}'}); // a UTF-16 surrogate
      Frame close = c.readUntilClose();
      assertNotNull(close);
      assertEquals(1007, close.closeCode());
    }
  }

  @Test
  void theIngestStopsCompressingOnceNoOpenConnectionNegotiated() throws Exception {
    try (Client negotiated = Client.open(server.port(), "permessage-deflate")) {
      negotiated.sendText("{\"type\":\"heartbeat\"}");
      negotiated.readData(); // its upgrade is done: it counts
    }
    String large = "{\"v\":\"" + "abcdefgh".repeat(100) + "\"}";
    try (Client plain = Client.open(server.port(), null);
         KafkaProducer<String, String> producer = OdinTopics.producer(kafka.bootstrap())) {
      plain.sendText("{\"type\":\"subscribe\",\"data\":{\"channels\":[\"NODFL.trade\"]}}");
      plain.readData();
      // the closed connections' pipelines are torn down on the server soon after their sockets close
      Await.until("a large message read while nobody negotiated goes uncompressed, and is not compressed", Duration.ofSeconds(60), () -> {
        try {
          long before = server.server.ingest().compressed();
          producer.send(new ProducerRecord<>(OdinTopics.TRADES, "NODFL", large)).get();
          Frame f = plain.readData();
          return f.rsv() == 0 && server.server.ingest().compressed() == before;
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      });
    }
  }

  @Test
  void anInflationBombClosesWith1009() throws Exception {
    try (Client c = Client.open(server.port(), "permessage-deflate")) {
      byte[] zeros = new byte[4 * 1024 * 1024]; // 64 KiB allowed (ws.maxMessageBytes); a few KiB compressed
      c.sendCompressed(zeros);
      Frame close = c.readUntilClose();
      assertNotNull(close, "a close frame");
      assertEquals(1009, close.closeCode());
    }
  }

  @Test
  void rsv1WithoutNegotiationClosesWith1002() throws Exception {
    try (Client c = Client.open(server.port(), null)) {
      c.sendCompressed("{\"type\":\"heartbeat\"}".getBytes(StandardCharsets.UTF_8));
      Frame close = c.readUntilClose();
      assertNotNull(close);
      assertEquals(1002, close.closeCode());
    }
  }

  @Test
  void rsv1OnAControlFrameClosesWith1002EvenWhenNegotiated() throws Exception {
    try (Client c = Client.open(server.port(), "permessage-deflate")) {
      c.send(0x80 | 0x40 | 0x9, new byte[0]); // FIN, RSV1, ping
      Frame close = c.readUntilClose();
      assertNotNull(close);
      assertEquals(1002, close.closeCode());
    }
  }

  /** The {@code Sec-WebSocket-Extensions} of the 101 answering {@code offer} (null: none sent, or no header). */
  private static String answer(ServerHarness s, String offer) throws IOException {
    try (Client c = Client.open(s.port(), offer)) {
      return c.extensions;
    }
  }

  static byte[] inflate(byte[] payload) throws Exception {
    Inflater inflater = new Inflater(true);
    byte[] in = Arrays.copyOf(payload, payload.length + 4);
    in[in.length - 2] = (byte) 0xFF;
    in[in.length - 1] = (byte) 0xFF;
    inflater.setInput(in);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    byte[] buf = new byte[8192];
    for (int n; (n = inflater.inflate(buf)) > 0; ) {
      out.write(buf, 0, n);
    }
    inflater.end();
    return out.toByteArray();
  }

  record Frame(int b0, byte[] payload) {
    int opcode() {
      return b0 & 0x0F;
    }

    int rsv() {
      return (b0 >> 4) & 0x7;
    }

    String text() {
      return new String(payload, StandardCharsets.UTF_8);
    }

    int closeCode() {
      return payload.length >= 2 ? ((payload[0] & 0xFF) << 8) | (payload[1] & 0xFF) : -1;
    }
  }

  /** A raw client that shows the RSV bits of what it reads and can send compressed frames. */
  static final class Client implements AutoCloseable {
    final Socket socket;
    final DataInputStream in;
    final OutputStream out;
    final String extensions;

    private Client(Socket socket, String extensions) throws IOException {
      this.socket = socket;
      this.in = new DataInputStream(socket.getInputStream());
      this.out = socket.getOutputStream();
      this.extensions = extensions;
    }

    static Client open(int port, String offer) throws IOException {
      Socket s = new Socket();
      s.connect(new InetSocketAddress("127.0.0.1", port));
      s.setSoTimeout(30_000);
      String req = RawWsClient.UPGRADE_HEADERS + (offer == null ? "" : "Sec-WebSocket-Extensions: " + offer + "\r\n") + "\r\n";
      s.getOutputStream().write(req.getBytes(StandardCharsets.US_ASCII));
      String head = RawWsClient.readHead(s.getInputStream());
      if (!head.startsWith("HTTP/1.1 101")) {
        s.close();
        throw new IOException("handshake refused: " + head);
      }
      String ext = null;
      for (String line : head.split("\r\n")) {
        if (line.toLowerCase(Locale.ROOT).startsWith("sec-websocket-extensions:")) {
          ext = line.substring(line.indexOf(':') + 1).strip();
        }
      }
      return new Client(s, ext);
    }

    void send(int b0, byte[] payload) throws IOException {
      ByteArrayOutputStream f = new ByteArrayOutputStream();
      f.write(b0);
      int len = payload.length;
      if (len < 126) {
        f.write(0x80 | len);
      } else if (len <= 0xFFFF) {
        f.write(0x80 | 126);
        f.write(len >>> 8);
        f.write(len);
      } else {
        f.write(0x80 | 127);
        for (int i = 7; i >= 0; i--) {
          f.write((int) ((long) len >>> (8 * i)));
        }
      }
      byte[] mask = new byte[4];
      ThreadLocalRandom.current().nextBytes(mask);
      f.write(mask);
      for (int i = 0; i < len; i++) {
        f.write(payload[i] ^ mask[i & 3]);
      }
      out.write(f.toByteArray());
      out.flush();
    }

    void sendText(String text) throws IOException {
      send(0x81, text.getBytes(StandardCharsets.UTF_8));
    }

    /** RFC 7692 7.2.1: raw deflate, sync flush, the trailing 00 00 ff ff removed, RSV1 on the frame. */
    void sendCompressed(byte[] message) throws IOException {
      send(0x80 | 0x40 | 0x1, compress(message));
    }

    static byte[] compress(byte[] message) {
      Deflater d = new Deflater(Deflater.DEFAULT_COMPRESSION, true);
      d.setInput(message);
      byte[] buf = new byte[message.length + 1024];
      int n = d.deflate(buf, 0, buf.length, Deflater.SYNC_FLUSH);
      d.end();
      return Arrays.copyOf(buf, n - 4);
    }

    Frame read() throws IOException {
      int b0 = in.read();
      if (b0 < 0) {
        return null;
      }
      int b1 = in.readUnsignedByte();
      long len = b1 & 0x7F;
      if (len == 126) {
        len = in.readUnsignedShort();
      } else if (len == 127) {
        len = in.readLong();
      }
      byte[] payload = new byte[(int) len];
      in.readFully(payload);
      return new Frame(b0, payload);
    }

    /** The next text frame (pings skipped). */
    Frame readData() throws IOException {
      for (Frame f = read(); f != null; f = read()) {
        if (f.opcode() == 0x1) {
          return f;
        }
      }
      throw new IOException("closed before a text frame");
    }

    Frame readUntilClose() throws IOException {
      for (Frame f = read(); f != null; f = read()) {
        if (f.opcode() == 0x8) {
          return f;
        }
      }
      return null;
    }

    @Override
    public void close() throws IOException {
      socket.close();
    }
  }
}
