package io.odinws.bus;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.MessageCodec;

/**
 * Local-only identity codec for {@link FrameBatch}: no copy, one added reference per receiver.
 * Vert.x calls {@code transform} once per consumer inside {@code publish}, which is what makes the
 * reference count exact even while shards come and go.
 */
public final class FrameBatchCodec implements MessageCodec<FrameBatch, FrameBatch> {

  public static final String NAME = "odin-frame-batch";

  @Override
  public void encodeToWire(Buffer buffer, FrameBatch batch) {
    throw new UnsupportedOperationException("FrameBatch is local-only: publish with DeliveryOptions.setLocalOnly(true)");
  }

  @Override
  public FrameBatch decodeFromWire(int pos, Buffer buffer) {
    throw new UnsupportedOperationException("FrameBatch is local-only");
  }

  @Override
  public FrameBatch transform(FrameBatch batch) {
    return batch.retain();
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public byte systemCodecID() {
    return -1;
  }
}
