package io.odinws.shard;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.odinws.bench.FastThreadExecutor;
import io.odinws.bench.SinkChannel;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A connect's Java side on the shard (issue 17's CPU per connect without the kernel's part): a real {@link Shard}'s
 * pipeline on a {@link SinkChannel} (writes released before the channel), the client's upgrade request, subscribed to
 * one of 160 channels by the URL ({@code ?subscribe=}) or by a subscribe message after the 101, the 101 and the
 * ack written; then the close. One operation is one connect and its close. Run with the image's JIT (C1 only) and
 * collector, as the server runs.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsPrepend = {"-Xms1g", "-Xmx1g", FastThreadExecutor.EXECUTOR, FastThreadExecutor.EXECUTOR_CLASS,
    FastThreadExecutor.NO_LEAK_SAMPLING}, jvmArgsAppend = {"-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xmn48m"})
public class ConnectBench {

  static final int CHANNELS = 160;

  @State(Scope.Thread)
  public static class Server extends FanOutBench.Fixture {

    @Param({"url", "message"})
    public String subscribe;

    private byte[][] upgrades;
    private byte[][] subscribes;
    private int next;

    @Override
    String sink() {
      return "discard";
    }

    @Setup(Level.Trial)
    public void setup() {
      createShard();
      boolean url = switch (subscribe) {
        case "url" -> true;
        case "message" -> false;
        default -> throw new IllegalArgumentException("subscribe=" + subscribe);
      };
      upgrades = new byte[CHANNELS][];
      subscribes = new byte[CHANNELS][];
      for (int i = 0; i < CHANNELS; i++) {
        String channel = "T" + i + ".trade";
        upgrades[i] = ("GET /ws" + (url ? "?subscribe=" + channel : "") + " HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"
            + "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
            .getBytes(StandardCharsets.US_ASCII);
        if (!url) {
          ByteBuf frame = FanOutBench.maskedText(new JsonObject().put("type", "subscribe")
              .put("data", new JsonObject().put("channels", new JsonArray(List.of(channel)))).encode());
          subscribes[i] = new byte[frame.readableBytes()];
          frame.readBytes(subscribes[i]).release();
        }
      }
      for (int i = 0; i < 2 * CHANNELS; i++) {
        if (connectAndClose() != 1) {
          throw new IllegalStateException("a connection was not upgraded and subscribed to one channel");
        }
      }
    }

    /** @return the connection's subscriptions before its close */
    int connectAndClose() {
      int i = next;
      next = i + 1 == CHANNELS ? 0 : i + 1;
      Channel ch = new SinkChannel(loop(), SinkChannel.DISCARD);
      shard().initChannel(ch);
      ch.pipeline().fireChannelRead(Unpooled.wrappedBuffer(upgrades[i])).fireChannelReadComplete();
      if (subscribes[i] != null) {
        ch.pipeline().fireChannelRead(Unpooled.wrappedBuffer(subscribes[i])).fireChannelReadComplete();
      }
      loop().runTasks();
      Connection c = (Connection) ch.pipeline().get(Connection.NAME);
      int subscribed = c.isUpgraded() ? c.subscriptionCount() : -1;
      ch.close();
      loop().runTasks();
      return subscribed;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
      shard().stop();
    }
  }

  @Benchmark
  public int connect(Server s) {
    return s.connectAndClose();
  }
}
