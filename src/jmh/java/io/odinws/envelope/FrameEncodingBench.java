package io.odinws.envelope;

import io.odinws.ingest.KafkaIngestVerticle;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.buffer.PooledByteBufAllocator;
import io.odinws.bench.FastThreadExecutor;
import io.odinws.bench.OdinValues;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The ingest worker's per-record work ({@code KafkaIngestVerticle.onBatch}), for Odin values of
 * about 150 B, 1 KB and 8 KB.
 *
 * <ul>
 *   <li>{@link #encodeLive}: {@link FrameEncoder#encodeLive} into a pooled direct buffer (the
 *       server's allocator), released in the same operation.</li>
 *   <li>{@link #isJson}: {@code RecordValidator.isJson}, the Jackson streaming check that the value
 *       is exactly one JSON value. Measured directly (this class is in the package of the
 *       package-private validator) rather than through the public {@code RecordFrames.replayMessage}:
 *       that is the replay path, which also decodes the key, builds new channel-key strings per
 *       record and encodes a replay frame, so the validator's share could not be read from it.</li>
 *   <li>{@link #utf8}, {@link #utf8Netty}, {@link #checkValue}: the strict UTF-8 check ({@link Utf8}),
 *       Netty's equivalent for comparison, and the whole value check (UTF-8, then JSON).</li>
 *   <li>{@link #ingestRecord}: everything {@code onBatch} does per live record except the recovery
 *       history: {@code RecordFrames.check} (topic map, key check, key decoding, UTF-8 and JSON check,
 *       interned channel keys), {@code encodeLive}, the {@link OutboundMessage}; frame released.</li>
 * </ul>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsPrepend = {"-Xms1g", "-Xmx1g", FastThreadExecutor.EXECUTOR, FastThreadExecutor.EXECUTOR_CLASS,
    FastThreadExecutor.NO_LEAK_SAMPLING})
@State(Scope.Thread)
public class FrameEncodingBench {

  /** Target value size; the values are 151, 983 and 8,170 bytes, their frames 274, 1,106 and 8,293 (see {@link OdinValues#value}). */
  @Param({"150", "1024", "8192"})
  public int valueBytes;

  private byte[] value;
  private byte[] channel;
  private FrameEncoder encoder;
  private long offset = 48_213_377L;
  private Map<String, String> topics;
  private ChannelNames names;
  private ConsumerRecord<byte[], byte[]> record;

  @Setup
  public void setup() {
    value = OdinValues.value(valueBytes);
    if (!RecordValidator.isJson(value)) {
      throw new IllegalStateException("benchmark value is not valid JSON");
    }
    topics = OdinValues.defaultTopics();
    names = new ChannelNames();
    channel = names.of("trade", "BTC").channelUtf8();
    record = new ConsumerRecord<>(OdinValues.topicOf("trade"), 3, offset, "BTC".getBytes(StandardCharsets.UTF_8), value);
    encoder = new FrameEncoder(PooledByteBufAllocator.DEFAULT);
    ByteBuf probe = encoder.encodeLive(channel, 3, offset, OdinValues.TS, value);
    System.out.printf("%nvalue %d bytes, frame %d bytes%n", value.length, probe.readableBytes());
    probe.release();
  }

  @Benchmark
  public int encodeLive() {
    ByteBuf frame = encoder.encodeLive(channel, 3, offset++, OdinValues.TS, value);
    int n = frame.readableBytes();
    frame.release();
    return n;
  }

  @Benchmark
  public boolean isJson() {
    return RecordValidator.isJson(value);
  }

  /** The strict UTF-8 check every record value passes before {@link #isJson}. */
  @Benchmark
  public boolean utf8() {
    return Utf8.isValid(value);
  }

  /** Netty's strict check, for comparison: it needs a buffer around the array and reads byte by byte. */
  @Benchmark
  public boolean utf8Netty() {
    return ByteBufUtil.isText(Unpooled.wrappedBuffer(value), StandardCharsets.UTF_8);
  }

  /** {@code RecordValidator.checkValue}: UTF-8, byte-order mark, then {@link #isJson}. */
  @Benchmark
  public boolean checkValue() {
    return RecordValidator.checkValue(value) == null;
  }

  @Benchmark
  public void ingestRecord(Blackhole bh) {
    ConsumerRecord<byte[], byte[]> r = record;
    RecordFrames.Checked checked = RecordFrames.check(r, topics, names);
    ChannelKeys keys = checked.keys();
    ByteBuf frame = encoder.encodeLive(keys.channelUtf8(), r.partition(), r.offset(), OdinValues.TS, r.value());
    OutboundMessage m = new OutboundMessage(keys, r.partition(), r.offset(), frame);
    bh.consume(m); // stored in the batch array in the server: it escapes there too
    frame.release();
  }
}
