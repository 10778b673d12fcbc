package io.odinws.bus;

import io.netty.buffer.ByteBuf;

/**
 * One Kafka record, encoded once as a complete, unmasked WebSocket text frame (header included).
 * The same {@code frame} bytes go to every subscriber on every shard.
 *
 * <p>Ownership: the enclosing {@link FrameBatch} owns {@code frame} (one reference) and releases it
 * when the last shard is done; shards write {@code frame.retainedDuplicate()} and never release
 * {@code frame} itself.
 *
 * @param channel   {@code <token>.<category>}; the same String instance reaches every shard, so its
 *                  hash is computed once
 * @param partition the Kafka partition
 * @param offset    the Kafka offset (the envelope's {@code seq})
 * @param frame     the complete frame
 */
public record OutboundMessage(String channel, int partition, long offset, ByteBuf frame) {
}
