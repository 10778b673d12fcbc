package io.odinws.bus;

import io.odinws.envelope.OutboundMessage;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * The messages of one Kafka poll, published once on the local EventBus and shared, unchanged, by
 * every shard.
 *
 * <p>Reference counting: the ingest worker holds one reference from creation; {@link FrameBatchCodec}
 * adds one per receiving shard while {@code publish} runs (Vert.x calls {@code transform} once per
 * consumer, synchronously); the worker releases its own after {@code publish} returns, and each shard
 * releases its own when its fan-out is written (or when the bus discards the batch). The last
 * release frees every frame (and every compressed frame beside it).
 */
public final class FrameBatch {

  private final OutboundMessage[] messages;
  private final long receivedAtMillis;
  private final AtomicInteger refCnt = new AtomicInteger(1);

  public FrameBatch(OutboundMessage[] messages, long receivedAtMillis) {
    this.messages = messages;
    this.receivedAtMillis = receivedAtMillis;
  }

  /** The messages in Kafka poll order; within a partition, offset order. Do not modify. */
  public OutboundMessage[] messages() {
    return messages;
  }

  public int size() {
    return messages.length;
  }

  /** Server time (Unix ms) when the poll's records entered the server. */
  public long receivedAtMillis() {
    return receivedAtMillis;
  }

  public FrameBatch retain() {
    int prev = refCnt.getAndIncrement();
    if (prev <= 0) {
      refCnt.getAndDecrement();
      throw new IllegalStateException("FrameBatch retained after it was freed");
    }
    return this;
  }

  /** Drops one reference; the last one frees every frame. */
  public void release() {
    int now = refCnt.decrementAndGet();
    if (now == 0) {
      for (OutboundMessage m : messages) {
        m.frame().release();
        if (m.deflated() != null) {
          m.deflated().release();
        }
      }
    } else if (now < 0) {
      throw new IllegalStateException("FrameBatch released more often than retained");
    }
  }

  public int refCnt() {
    return refCnt.get();
  }
}
