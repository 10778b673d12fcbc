package io.odinws.recovery;

import io.netty.buffer.ByteBuf;

/**
 * What recovery needs of a connection: its gate, ordered writes of replayed frames, and replies.
 * Called on the connection's loop only.
 */
public interface ReplayTarget {

  /**
   * The {@code sub} the connection authenticated as; null while anonymous. A replay writes a private record
   * only when this is one of its owners.
   */
  String subject();

  /** A close was started: nothing more is written. */
  boolean isClosing();

  /** The connection's gate, made on first use. */
  RecoveryGate gate();

  /** Writes a complete frame after everything already queued for the connection; takes ownership of {@code frame}. */
  void writeFrame(ByteBuf frame);

  /** Flushes what was written (and applies the connection's outbound limits). */
  void flush();

  /** Writes a text message (a JSON reply) after everything already written, and flushes them all. */
  void reply(String json);
}
