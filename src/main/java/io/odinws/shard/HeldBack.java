package io.odinws.shard;

import io.netty.buffer.ByteBuf;
import io.odinws.envelope.OutboundMessage;

import java.util.ArrayList;
import java.util.List;

/**
 * One recovering channel of a connection. While it replays, the channel's live messages are held
 * and written after the replay, skipping what the replay already sent. After that it stays as a
 * floor: batches the shard had queued before the replay may still carry offsets the replay
 * covered, so live messages at or below {@code lastSent} are dropped until the first newer one
 * passes and the floor is removed. Owns a retained duplicate of each frame it holds.
 */
final class HeldBack {

  private final List<OutboundMessage> held = new ArrayList<>();
  private final int max;
  /** The last offset written to the client on this channel (replayed or live). */
  long lastSent;
  /** More arrived than {@code max}: some were dropped, so the channel cannot be reported recovered. */
  boolean overflow;
  /** The replay is written: only the floor remains. */
  boolean replayed;

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
    held.add(new OutboundMessage(m.keys(), m.partition(), m.offset(), frame));
  }

  /** Writes the held messages after {@code lastSent}, in arrival (offset) order, and empties. @return messages written */
  int release(Connection c) {
    int written = 0;
    for (OutboundMessage m : held) {
      if (m.offset() > lastSent && !c.closing) {
        c.writeFrame(m.frame());
        lastSent = m.offset();
        written++;
      } else {
        m.frame().release();
      }
    }
    held.clear();
    return written;
  }

  /** Drops everything held (the connection closed). */
  void discard() {
    held.forEach(m -> m.frame().release());
    held.clear();
  }
}
