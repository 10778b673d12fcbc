package io.odinws.internal;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.unix.IovArray;

/**
 * A native {@code iovec} array for {@link DirectSocket#writev}, reused by every flush of one event
 * loop. Owns its native buffer: {@link #release()} once, when the loop's owner stops.
 */
public final class WriteVector {

  private final IovArray iov;

  public WriteVector(int maxEntries) {
    this.iov = new IovArray(Unpooled.directBuffer(maxEntries * IovArray.IOV_SIZE));
  }

  public void clear() {
    iov.clear();
  }

  /** Adds a direct buffer's readable bytes (no reference taken). @return false when full */
  public boolean add(ByteBuf buf) {
    return iov.add(buf, buf.readerIndex(), buf.readableBytes());
  }

  long address() {
    return iov.memoryAddress(0);
  }

  int count() {
    return iov.count();
  }

  public void release() {
    iov.release();
  }
}
