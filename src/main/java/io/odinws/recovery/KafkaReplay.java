package io.odinws.recovery;

import io.vertx.core.Future;

/**
 * Reads positions older than the in-memory history straight from Kafka (PROTOCOL.md section 6).
 * Implementations serve concurrent requests for the same partition with as few reads as they can
 * (a reconnect storm is one read per partition, not one per client).
 */
public interface KafkaReplay {

  /**
   * The valid records of one partition with offsets in {@code [fromOffset, untilOffset)}, as replay
   * frames ({@code "type":"replay:message","priority":2}), in offset order.
   *
   * <p>Ownership: the returned {@link ReplayRead#batch()} carries one reference for the caller, who
   * must release it once (after writing duplicates of the frames it needs). The future may complete
   * on any thread.
   */
  Future<ReplayRead> read(String topic, int partition, long fromOffset, long untilOffset);

  /** Reads performed since start (each may have served many requests). */
  long reads();
}
