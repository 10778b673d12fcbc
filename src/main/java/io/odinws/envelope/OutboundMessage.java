package io.odinws.envelope;



import io.netty.buffer.ByteBuf;

import java.util.List;

/**
 * One Kafka record, encoded once as a complete, unmasked WebSocket text frame (header included).
 * The same {@code frame} bytes go to every subscriber on every shard.
 *
 * <p>Ownership: the enclosing batch ({@code bus.FrameBatch}) owns {@code frame} and {@code deflated} (one reference
 * each) and releases them when the last shard is done. A shard that queues it on connections retains it once until its flush
 * has run; what goes to Netty's queue is a retained duplicate or slice, released by Netty.
 *
 * @param keys      the channel and the wildcard keys it matches; one shared instance per channel, so
 *                  its strings' hashes are computed once
 * @param partition the Kafka partition
 * @param offset    the Kafka offset (the envelope's {@code seq})
 * @param frame     the complete frame
 * @param owners    a private record's owners (the {@code sub} values it goes to), without duplicates; null for a
 *                  public record (every subscriber)
 * @param deflated  the same message as a permessage-deflate frame ({@link FrameDeflater}), sent instead of
 *                  {@code frame} to the connections that negotiated the extension; null when the message goes
 *                  uncompressed to everyone (compression off or nobody negotiated it when it was read, under the
 *                  size threshold, or not smaller). Built once, at ingest, on live messages only: valid only while
 *                  the batch is, so whoever keeps a message beyond its batch (the history, a recovery gate) keeps
 *                  {@code frame} alone and sends it uncompressed
 */
public record OutboundMessage(ChannelKeys keys, int partition, long offset, ByteBuf frame, List<String> owners, ByteBuf deflated) {

  /** A public record. */
  public OutboundMessage(ChannelKeys keys, int partition, long offset, ByteBuf frame) {
    this(keys, partition, offset, frame, null, null);
  }

  /** An uncompressed message. */
  public OutboundMessage(ChannelKeys keys, int partition, long offset, ByteBuf frame, List<String> owners) {
    this(keys, partition, offset, frame, owners, null);
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
