package io.odinws.shard;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.EventLoop;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocket13FrameDecoder;
import io.netty.handler.codec.http.websocketx.WebSocket13FrameEncoder;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.util.ReferenceCountUtil;
import io.odinws.bus.FrameBatch;
import io.odinws.config.ConfigLoader;
import io.odinws.config.OdinConfig;
import io.odinws.envelope.ChannelKeys;
import io.odinws.envelope.FrameEncoder;
import io.odinws.envelope.OutboundMessage;
import io.odinws.http.PublicEndpoints;
import io.odinws.recovery.History;
import io.odinws.recovery.KafkaReplay;
import io.odinws.recovery.ReplayRead;
import io.odinws.shard.admission.Admission;
import io.odinws.shard.admission.ResourceGuard;
import io.odinws.stats.ServerMeters;
import io.odinws.stats.ShardStats;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A real {@link Shard} with one client socket on Netty's {@link EmbeddedChannel}, driven with the
 * bytes a client sends: HTTP requests, then masked WebSocket frames. What the server writes is read
 * back through a client-side frame decoder, so a test sees what a client would, in order. Close it
 * in a finally (or try-with-resources): it stops the shard and releases every buffer left.
 */
final class EmbeddedShard implements AutoCloseable {

  /** RFC 6455's sample key and the accept value it must produce (section 1.3). */
  static final String KEY = "dGhlIHNhbXBsZSBub25jZQ==";
  static final String ACCEPT = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";
  static final String HEALTH_JSON = "{\"healthy\":true,\"status\":\"healthy\"}";

  final OdinConfig config;
  final EmbeddedChannel channel;
  final Shard shard;
  /** The shard's admission, as every shard of a server shares one. */
  final Admission admission;
  private final FrameEncoder encoder = new FrameEncoder(UnpooledByteBufAllocator.DEFAULT);
  /** Masks the client's frames, as every client must (RFC 6455 5.3). */
  private final EmbeddedChannel clientEncoder = new EmbeddedChannel(new WebSocket13FrameEncoder(true));
  /** Reads the server's frames, which must not be masked. */
  private final EmbeddedChannel clientDecoder = new EmbeddedChannel(new WebSocket13FrameDecoder(false, false, 1 << 20));
  private long nextOffset = 1000;

  static {
    // The shard's fan-out allocates its writev vector (Netty's IovArray) up front, which needs the
    // native transport's library loaded, as it is in the server before any shard starts.
    Epoll.ensureAvailability();
  }

  /** The default configuration. */
  EmbeddedShard() {
    this(new JsonObject());
  }

  /** The default configuration with {@code overrides} merged in (as a deployment's file is). */
  EmbeddedShard(JsonObject overrides) {
    config = ConfigLoader.resolve(overrides, Map.of());
    // The shard's admission reads the peer's IP address: EmbeddedChannel's own address is not an InetSocketAddress.
    InetSocketAddress peer = new InetSocketAddress(address(192, 0, 2, 7), 40_000);
    channel = new EmbeddedChannel() {
      @Override
      protected SocketAddress remoteAddress0() {
        return peer;
      }
    };
    admission = new Admission(config.admission(), ResourceGuard.disabled());
    // The channel's loop is the shard's: every task the shard queues runs in runPendingTasks().
    shard = newShard(config, admission, encoder, channel.eventLoop());
    shard.initChannel(channel);
  }

  /** A shard as a server builds one, without Kafka, on {@code loop}; its history encodes with {@code encoder}. */
  static Shard newShard(OdinConfig config, Admission admission, FrameEncoder encoder, EventLoop loop) {
    ShardServices services = new ShardServices(null, new StaticEndpoints(), admission,
        new History(config.recovery(), encoder), new NoKafka(), ServerMeters.create(new SimpleMeterRegistry()),
        io.odinws.auth.AuthContext.off(config.auth()));
    return new Shard(0, config, services, loop);
  }

  ShardStats stats() {
    return shard.stats();
  }

  /** The connection handler of the socket, first in its pipeline. */
  Connection connection() {
    return (Connection) channel.pipeline().get(Connection.NAME);
  }

  /** The shard's per-connection limits, as its sweep applies them. */
  ConnectionPolicy policy() {
    return ConnectionPolicy.of(config.ws(), config.limits());
  }

  // ---- HTTP --------------------------------------------------------------------------------

  /** Sends a raw HTTP request and returns everything the server wrote back, as text. */
  String http(String request) {
    channel.writeInbound(Unpooled.copiedBuffer(request, StandardCharsets.US_ASCII));
    StringBuilder out = new StringBuilder();
    for (Object o; (o = channel.readOutbound()) != null; ) {
      try {
        out.append(assertInstanceOf(ByteBuf.class, o).toString(StandardCharsets.UTF_8));
      } finally {
        ReferenceCountUtil.release(o);
      }
    }
    return out.toString();
  }

  static String upgradeRequest(String path, String version) {
    return "GET " + path + " HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        + "Sec-WebSocket-Key: " + KEY + "\r\nSec-WebSocket-Version: " + version + "\r\n\r\n";
  }

  /** The handshake a client sends; asserts the 101 and returns it. */
  String upgrade() {
    String response = http(upgradeRequest("/ws", "13"));
    assertTrue(response.startsWith("HTTP/1.1 101 "), response);
    return response;
  }

  /**
   * Sends the handshake for {@code path} (a query string included) and returns the 101's head, asserting it; what the
   * server wrote behind it is left for {@link #received()}.
   */
  String upgrade(String path) {
    channel.writeInbound(Unpooled.copiedBuffer(upgradeRequest(path, "13"), StandardCharsets.US_ASCII));
    ByteBuf head = assertInstanceOf(ByteBuf.class, channel.readOutbound(), "an answer to the handshake");
    try {
      String text = head.toString(StandardCharsets.US_ASCII);
      assertTrue(text.startsWith("HTTP/1.1 101 ") && text.endsWith("\r\n\r\n"), "the 101's head, in a buffer of its own: " + text);
      return text;
    } finally {
      head.release();
    }
  }

  // ---- WebSocket frames --------------------------------------------------------------------

  /** Sends {@code frame} as a client would: masked, as bytes. */
  void send(WebSocketFrame frame) {
    clientEncoder.writeOutbound(frame);
    for (Object bytes; (bytes = clientEncoder.readOutbound()) != null; ) {
      channel.writeInbound(bytes);
    }
  }

  void sendText(String text) {
    send(new TextWebSocketFrame(text));
  }

  /** Sends text frames as a client writing them at once would: masked, in one read of the server's socket. */
  void sendTogether(String... texts) {
    for (String text : texts) {
      clientEncoder.writeOutbound(new TextWebSocketFrame(text));
    }
    CompositeByteBuf together = Unpooled.compositeBuffer();
    for (Object bytes; (bytes = clientEncoder.readOutbound()) != null; ) {
      together.addComponent(true, (ByteBuf) bytes);
    }
    channel.writeInbound(together);
  }

  /** What a client reads of one server frame. {@code text} is the close reason for close frames. */
  record Received(String kind, String text, int closeCode) {

    JsonObject json() {
      assertEquals("text", kind, "a text frame expected: " + this);
      return new JsonObject(text);
    }

    String type() {
      return json().getString("type");
    }
  }

  /** Every frame the server has written and flushed since the last call, in order. */
  List<Received> received() {
    for (Object bytes; (bytes = channel.readOutbound()) != null; ) {
      assertInstanceOf(ByteBuf.class, bytes, "after the upgrade the server writes only bytes");
      clientDecoder.writeInbound(bytes);
    }
    List<Received> frames = new ArrayList<>();
    for (Object f; (f = clientDecoder.readInbound()) != null; ) {
      try {
        if (f instanceof TextWebSocketFrame text) {
          frames.add(new Received("text", text.text(), -1));
        } else if (f instanceof CloseWebSocketFrame close) {
          frames.add(new Received("close", close.reasonText(), close.statusCode()));
        } else if (f instanceof PingWebSocketFrame) {
          frames.add(new Received("ping", "", -1));
        } else {
          frames.add(new Received(f.getClass().getSimpleName(), "", -1));
        }
      } finally {
        ReferenceCountUtil.release(f);
      }
    }
    return frames;
  }

  /** Sends {@code request} and returns the one reply it gets. */
  JsonObject request(String request) {
    sendText(request);
    List<Received> replies = received();
    assertEquals(1, replies.size(), "one reply to " + request + ": " + replies);
    return replies.get(0).json();
  }

  /** Subscribes and returns the subscription_ack. */
  JsonObject subscribe(String... channels) {
    JsonObject ack = request(new JsonObject().put("type", "subscribe")
        .put("data", new JsonObject().put("channels", List.of(channels))).encode());
    assertEquals("subscription_ack", ack.getString("type"), ack.encode());
    return ack;
  }

  /** Runs what the loop has pending and returns the server's answer, asserting it is exactly one close frame. */
  Received onlyCloseFrame() {
    channel.runPendingTasks();
    List<Received> frames = received();
    assertEquals(1, frames.size(), "exactly one close frame: " + frames);
    return closeFrame(frames);
  }

  /** The close frame the server sent last, asserting it sent one. */
  static Received closeFrame(List<Received> frames) {
    Received close = frames.isEmpty() ? null : frames.get(frames.size() - 1);
    assertNotNull(close, "no frame at all");
    assertEquals("close", close.kind(), "the last frame is a close frame: " + frames);
    return close;
  }

  // ---- fan-out -----------------------------------------------------------------------------

  /** A live message on {@code token.category}, encoded as the ingest worker does. */
  OutboundMessage message(String token, String category, String value) {
    return message(encoder, token, category, nextOffset++, value);
  }

  /** A live message at {@code offset} of partition 3, encoded with {@code encoder}. */
  static OutboundMessage message(FrameEncoder encoder, String token, String category, long offset, String value) {
    ChannelKeys keys = ChannelKeys.of(token, category);
    return new OutboundMessage(keys, 3, offset,
        encoder.encodeLive(keys.channelUtf8(), 3, offset, 1_732_000_000_000L, value.getBytes(StandardCharsets.UTF_8)));
  }

  /** Hands a batch to the shard as the bus does: the shard owns (and releases) its one reference. */
  static FrameBatch batch(OutboundMessage... messages) {
    return new FrameBatch(messages, System.currentTimeMillis());
  }

  /** A private record on {@code token.category} for {@code owners}, encoded as the ingest worker does. */
  OutboundMessage privateMessage(String token, String category, String value, String... owners) {
    OutboundMessage m = message(token, category, value);
    return new OutboundMessage(m.keys(), m.partition(), m.offset(), m.frame(), List.of(owners));
  }

  // ---- more clients on the same shard ---------------------------------------------------------

  private final List<Client> clients = new ArrayList<>();

  /** Another socket accepted by the same shard (its own channel, the shard's index and fan-out); closed with the shard. */
  Client client() {
    Client c = new Client();
    clients.add(c);
    return c;
  }

  /** One more client socket: the same driving and reading as the shard's first one. */
  final class Client {
    final EmbeddedChannel channel;
    private final EmbeddedChannel encoder = new EmbeddedChannel(new WebSocket13FrameEncoder(true));
    private final EmbeddedChannel decoder = new EmbeddedChannel(new WebSocket13FrameDecoder(false, false, 1 << 20));

    private Client() {
      InetSocketAddress peer = new InetSocketAddress(address(192, 0, 2, 8), 40_000 + clients.size() + 1);
      channel = new EmbeddedChannel() {
        @Override
        protected SocketAddress remoteAddress0() {
          return peer;
        }
      };
      shard.initChannel(channel);
    }

    Connection connection() {
      return (Connection) channel.pipeline().get(Connection.NAME);
    }

    void upgrade() {
      channel.writeInbound(Unpooled.copiedBuffer(upgradeRequest("/ws", "13"), StandardCharsets.US_ASCII));
      ByteBuf response = assertInstanceOf(ByteBuf.class, channel.readOutbound());
      try {
        assertTrue(response.toString(StandardCharsets.US_ASCII).startsWith("HTTP/1.1 101 "), response.toString(StandardCharsets.US_ASCII));
      } finally {
        response.release();
      }
    }

    void sendText(String text) {
      encoder.writeOutbound(new TextWebSocketFrame(text));
      for (Object bytes; (bytes = encoder.readOutbound()) != null; ) {
        channel.writeInbound(bytes);
      }
    }

    /** Every text frame the server has written to this client since the last call, as JSON. */
    List<JsonObject> received() {
      channel.runPendingTasks();
      for (Object bytes; (bytes = channel.readOutbound()) != null; ) {
        decoder.writeInbound(bytes);
      }
      List<JsonObject> frames = new ArrayList<>();
      for (Object f; (f = decoder.readInbound()) != null; ) {
        try {
          frames.add(new JsonObject(assertInstanceOf(TextWebSocketFrame.class, f).text()));
        } finally {
          ReferenceCountUtil.release(f);
        }
      }
      return frames;
    }

    /** How many pings the server has written to this client since the last call; other frames are dropped. */
    int pings() {
      channel.runPendingTasks();
      for (Object bytes; (bytes = channel.readOutbound()) != null; ) {
        decoder.writeInbound(bytes);
      }
      int pings = 0;
      for (Object f; (f = decoder.readInbound()) != null; ) {
        try {
          pings += f instanceof PingWebSocketFrame ? 1 : 0;
        } finally {
          ReferenceCountUtil.release(f);
        }
      }
      return pings;
    }

    JsonObject subscribe(String... channels) {
      sendText(new JsonObject().put("type", "subscribe").put("data", new JsonObject().put("channels", List.of(channels))).encode());
      List<JsonObject> replies = received();
      assertEquals(1, replies.size(), replies.toString());
      assertEquals("subscription_ack", replies.get(0).getString("type"), replies.toString());
      return replies.get(0);
    }

    private void release() {
      channel.finishAndReleaseAll();
      encoder.finishAndReleaseAll();
      decoder.finishAndReleaseAll();
    }
  }

  // ---- end ---------------------------------------------------------------------------------

  /** Stops the shard (which frees its native write vector) and releases everything still queued. */
  @Override
  public void close() {
    try {
      shard.stop();
      channel.runPendingTasks();
      clients.forEach(c -> c.channel.runPendingTasks());
    } finally {
      clients.forEach(Client::release);
      channel.finishAndReleaseAll();
      clientEncoder.finishAndReleaseAll();
      clientDecoder.finishAndReleaseAll();
    }
  }

  private static InetAddress address(int a, int b, int c, int d) {
    try {
      return InetAddress.getByAddress(new byte[] {(byte) a, (byte) b, (byte) c, (byte) d});
    } catch (UnknownHostException e) {
      throw new IllegalStateException(e);
    }
  }

  /** /health and /metrics with fixed answers: the shard only relays them. */
  private static final class StaticEndpoints implements PublicEndpoints {
    @Override
    public Health health() {
      return new Health(200, HEALTH_JSON);
    }

    @Override
    public Health live() {
      return new Health(200, "{\"status\":\"UP\"}");
    }

    @Override
    public Future<Health> ready() {
      return Future.succeededFuture(new Health(200, "{\"status\":\"UP\"}"));
    }

    @Override
    public String metrics() {
      return "ws_connections 1\n";
    }
  }

  /** No broker: these tests never recover from Kafka; a read would fail visibly. */
  private static final class NoKafka implements KafkaReplay {
    @Override
    public Future<ReplayRead> read(String topic, int partition, long fromOffset, long untilOffset) {
      return Future.failedFuture(new UnsupportedOperationException("no Kafka in a shard unit test"));
    }

    @Override
    public long reads() {
      return 0;
    }
  }
}
