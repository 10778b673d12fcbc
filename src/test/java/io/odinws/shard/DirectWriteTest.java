package io.odinws.shard;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.odinws.config.ConfigLoader;
import io.odinws.config.OdinConfig;
import io.odinws.envelope.FrameEncoder;
import io.odinws.shard.admission.Admission;
import io.odinws.shard.admission.ResourceGuard;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The fan-out's direct writes ({@code send}/{@code writev} past Netty's queue) on a real epoll socket, which
 * {@link EmbeddedShard}'s channel has none of. They pass no handler, so while one sits between the connection and
 * the socket (TLS would) the fan-out writes through Netty: that handler sees every frame.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class DirectWriteTest {

  private static final FrameEncoder ENCODER = new FrameEncoder(UnpooledByteBufAllocator.DEFAULT);

  private EventLoopGroup group;
  private Channel listener;

  @BeforeEach
  void startLoop() {
    group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
  }

  @AfterEach
  void stopLoop() {
    if (listener != null) {
      listener.close().syncUninterruptibly();
    }
    group.shutdownGracefully(0, 5, TimeUnit.SECONDS).syncUninterruptibly();
  }

  @Test
  void aHandlerNearerTheSocketThanTheConnectionSeesTheFanOutsFrames() throws Exception {
    Queue<String> passed = new ConcurrentLinkedQueue<>();
    ChannelOutboundHandlerAdapter nearest = new ChannelOutboundHandlerAdapter() {
      @Override
      public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (msg instanceof ByteBuf bytes) {
          passed.add(bytes.toString(StandardCharsets.ISO_8859_1));
        }
        ctx.write(msg, promise);
      }
    };
    EventLoop loop = group.next();
    Shard shard = listen(loop, nearest);
    try (Socket client = new Socket()) {
      client.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port()), 10_000);
      client.setSoTimeout(30_000);
      upgradeSubscribed(client, "HOT.trade");

      loop.execute(() -> shard.onBatch(EmbeddedShard.batch(EmbeddedShard.message(ENCODER, "HOT", "trade", 7, "\"through-the-handler\""))));

      String frame = readTextFrame(client.getInputStream());
      assertTrue(frame.contains("through-the-handler"), frame);
      assertTrue(passed.stream().anyMatch(p -> p.contains("through-the-handler")),
          "the fan-out's frame went past the handler nearest the socket: " + passed);
    } finally {
      loop.submit(shard::stop).syncUninterruptibly();
    }
  }

  /** A shard on {@code loop} whose sockets have {@code nearest} between the connection and the socket. */
  private Shard listen(EventLoop loop, ChannelOutboundHandlerAdapter nearest) throws InterruptedException {
    OdinConfig config = ConfigLoader.resolve(new JsonObject(), Map.of());
    Shard shard = EmbeddedShard.newShard(config, new Admission(config.admission(), ResourceGuard.disabled()), ENCODER, loop);
    listener = new ServerBootstrap().group(loop).channel(EpollServerSocketChannel.class)
        .childHandler(new ChannelInitializer<>() {
          @Override
          protected void initChannel(Channel ch) {
            ch.pipeline().addLast(nearest); // first: the shard puts the connection after it
            shard.initChannel(ch);
          }
        })
        .bind(InetAddress.getLoopbackAddress(), 0).sync().channel();
    return shard;
  }

  private int port() {
    return ((InetSocketAddress) listener.localAddress()).getPort();
  }

  /** The handshake with a subscription in its URL; reads the 101 and the subscription's ack. */
  private static void upgradeSubscribed(Socket client, String channel) throws IOException {
    client.getOutputStream().write(EmbeddedShard.upgradeRequest("/ws?subscribe=" + channel, "13")
        .getBytes(StandardCharsets.US_ASCII));
    InputStream in = client.getInputStream();
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    while (!head.toString(StandardCharsets.US_ASCII).endsWith("\r\n\r\n")) {
      int b = in.read();
      assertTrue(b >= 0, "the server closed during the handshake: " + head);
      head.write(b);
    }
    assertTrue(head.toString(StandardCharsets.US_ASCII).startsWith("HTTP/1.1 101 "), head.toString(StandardCharsets.US_ASCII));
    String ack = readTextFrame(in);
    assertTrue(ack.contains("subscription_ack"), ack);
  }

  /** One unmasked text frame of up to 64 KiB, as a server sends it. */
  private static String readTextFrame(InputStream in) throws IOException {
    DataInputStream data = new DataInputStream(in);
    int first = data.readUnsignedByte();
    assertEquals(0x81, first, "a final text frame");
    int length = data.readUnsignedByte();
    if (length == 126) {
      length = data.readUnsignedShort();
    }
    byte[] payload = new byte[length];
    data.readFully(payload);
    return new String(payload, StandardCharsets.UTF_8);
  }
}
