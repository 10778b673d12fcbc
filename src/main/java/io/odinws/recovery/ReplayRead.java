package io.odinws.recovery;

import io.odinws.bus.FrameBatch;

/**
 * What one Kafka read found.
 *
 * @param batch          the valid records read, as replay frames in offset order (one reference for the caller)
 * @param fromOffset     the first offset asked for
 * @param untilOffset    the end asked for (exclusive)
 * @param logStartOffset the partition's first available offset when read: records before it are
 *                       gone (retention), so a request starting before it cannot be complete
 * @param logEndOffset   the partition's end when read
 * @param complete       every offset of {@code [max(fromOffset, logStartOffset), min(untilOffset, logEndOffset))}
 *                       was read (false when a limit or a timeout cut the read short)
 */
public record ReplayRead(FrameBatch batch, long fromOffset, long untilOffset, long logStartOffset, long logEndOffset, boolean complete) {
}
