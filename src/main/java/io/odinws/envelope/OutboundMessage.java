package io.odinws.envelope;



import io.netty.buffer.ByteBuf;

import java.util.List;

/**
 * One Kafka record, encoded once as a complete, unmasked WebSocket text frame (header included).
 * The same {@code frame} bytes go to every subscriber on every shard.
 *
 * <p>Ownership: the enclosing batch ({@code bus.FrameBatch}) owns {@code frame} (one reference) and releases it
 * when the last shard is done. A shard that queues it on connections retains it once until its flush
 * has run; what goes to Netty's queue is a retained duplicate or slice, released by Netty.
 *
 * @param keys      the channel and the wildcard keys it matches; one shared instance per channel, so
 *                  its strings' hashes are computed once
 * @param partition the Kafka partition
 * @param offset    the Kafka offset (the envelope's {@code seq})
 * @param frame     the complete frame
 * @param owners    a private record's owners (the {@code sub} values it goes to), without duplicates; null for a
 *                  public record (every subscriber)
 */
public record OutboundMessage(ChannelKeys keys, int partition, long offset, ByteBuf frame, List<String> owners) {

  /** A public record. */
  public OutboundMessage(ChannelKeys keys, int partition, long offset, ByteBuf frame) {
    this(keys, partition, offset, frame, null);
  }

  public boolean isPrivate() {
    return owners != null;
  }

  /** Whether a connection authenticated as {@code subject} (null: anonymous) may receive this record. */
  public boolean isFor(String subject) {
    return owners == null || subject != null && owners.contains(subject);
  }

  public String channel() {
    return keys.channel();
  }
}
