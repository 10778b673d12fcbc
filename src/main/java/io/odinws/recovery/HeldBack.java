package io.odinws.recovery;

import io.netty.buffer.ByteBuf;
import io.odinws.envelope.OutboundMessage;

import java.util.ArrayList;
import java.util.List;

/**
 * One recovering channel of a connection. While it replays, the channel's live messages are held
 * and written after the replay, skipping what the replay already sent. After that it stays as a
 * floor: batches the shard had queued before the replay may still carry offsets the replay
 * covered, so live messages at or below {@link #lastSent} are dropped until the first newer one
 * passes and the floor is removed. Owns a retained duplicate of each frame it holds.
 */
final class HeldBack {

  private final List<OutboundMessage> held = new ArrayList<>();
  private final int max;
  /** The last offset written to the client on this channel (replayed or live). */
  private long lastSent;
  /** More arrived than {@code max}: some were dropped, so the channel cannot be reported recovered. */
  private boolean overflow;
  /** The replay is written: only the floor remains. */
  private boolean replayed;

  HeldBack(long lastSent, int max) {
    this.lastSent = lastSent;
    this.max = max;
  }

  /** Holds a live message; takes ownership of {@code frame}. */
  void hold(OutboundMessage m, ByteBuf frame) {
    if (held.size() >= max) {
      overflow = true;
      frame.release();
      return;
    }
    held.add(new OutboundMessage(m.keys(), m.partition(), m.offset(), frame, m.owners()));
  }

  long lastSent() {
    return lastSent;
  }

  /** Nothing at or below {@code offset} is written any more (a snapshot's end: live continues after it). */
  void floor(long offset) {
    lastSent = Math.max(lastSent, offset);
  }

  boolean overflow() {
    return overflow;
  }

  boolean replayed() {
    return replayed;
  }

  /**
   * Writes {@code frame} (owned) when its offset is past what was sent, else releases it.
   *
   * @return true when written
   */
  boolean sendIfNew(ReplayTarget target, long offset, ByteBuf frame) {
    if (offset > lastSent && !target.isClosing()) {
      target.writeFrame(frame);
      lastSent = offset;
      return true;
    }
    frame.release();
    return false;
  }

  /**
   * The replay is written: writes the held messages it did not cover, in arrival (offset) order, and stays as a floor.
   *
   * @return the private records written (the private-deliveries metric counts every path)
   */
  int release(ReplayTarget target) {
    int privateWritten = 0;
    for (OutboundMessage m : held) {
      if (sendIfNew(target, m.offset(), m.frame()) && m.isPrivate()) {
        privateWritten++;
      }
    }
    held.clear();
    replayed = true;
    return privateWritten;
  }

  /** Drops everything held (the connection closed, or a newer recovery of the channel replaced this one). */
  void discard() {
    held.forEach(m -> m.frame().release());
    held.clear();
  }
}
