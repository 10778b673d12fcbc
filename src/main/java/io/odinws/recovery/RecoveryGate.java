package io.odinws.recovery;

import io.odinws.envelope.OutboundMessage;

import java.util.HashMap;
import java.util.Map;

/**
 * The channels of one connection that are being recovered, and what live delivery does meanwhile:
 * a live message of such a channel is held until the channel's replay is written, then compared with
 * the offset floor the replay left (see {@link HeldBack}). Owned by the connection; used on its
 * shard's loop only.
 */
public final class RecoveryGate {

  private final Map<String, HeldBack> channels = new HashMap<>(4);

  /** Starts holding back {@code channel}'s live messages; a second recovery of a channel supersedes the first. */
  HeldBack open(String channel, long after, int maxHeld) {
    HeldBack held = new HeldBack(after, maxHeld);
    HeldBack previous = channels.put(channel, held);
    if (previous != null) {
      previous.discard();
    }
    return held;
  }

  /**
   * A live message for this connection, before it is written.
   *
   * @return true when it is to be written now; false when it was held for after the replay (the gate
   *     takes its own reference to the frame) or the replay already sent it
   */
  public boolean passes(OutboundMessage m) {
    HeldBack held = channels.get(m.channel());
    if (held == null) {
      return true;
    }
    if (!held.replayed()) {
      held.hold(m, m.frame().retainedDuplicate());
      return false;
    }
    if (m.offset() <= held.lastSent()) {
      return false;
    }
    channels.remove(m.channel()); // past the floor: plain live delivery from here
    return true;
  }

  /** No channel is gated any more: the connection may drop the gate. */
  public boolean isEmpty() {
    return channels.isEmpty();
  }

  /** Releases every held frame (the connection closed). */
  public void discard() {
    channels.values().forEach(HeldBack::discard);
    channels.clear();
  }
}
