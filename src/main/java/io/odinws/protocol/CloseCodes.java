package io.odinws.protocol;

/** WebSocket close codes the server uses (PROTOCOL.md section 7). */
public final class CloseCodes {
  /** Shutdown, and idle timeout (no inbound frame for the idle window). */
  public static final int GOING_AWAY = 1001;
  /** Invalid UTF-8 in a text message. */
  public static final int INVALID_PAYLOAD = 1007;
  /** Policy: slow client, flooding. */
  public static final int POLICY = 1008;
  /** Inbound message over the size limit. */
  public static final int TOO_BIG = 1009;
  /** An unexpected error while handling this connection. */
  public static final int INTERNAL_ERROR = 1011;
  /** Drain or re-shard: reconnect now, then recover. */
  public static final int SERVICE_RESTART = 1012;

  private CloseCodes() {
  }
}
