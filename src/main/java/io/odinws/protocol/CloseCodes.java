package io.odinws.protocol;

/** WebSocket close codes the server uses (PROTOCOL.md section 7), and which ones a client may send. */
public final class CloseCodes {
  /** Shutdown, and idle timeout (no inbound frame for the idle window). */
  public static final int GOING_AWAY = 1001;
  /** A frame that breaks RFC 6455, including a close frame with an invalid code or a 1-byte payload. */
  public static final int PROTOCOL_ERROR = 1002;
  /** Invalid UTF-8 in a text message or in a close frame's reason. */
  public static final int INVALID_PAYLOAD = 1007;
  /** Policy: slow client, flooding. */
  public static final int POLICY = 1008;
  /** Inbound message over the size limit. */
  public static final int TOO_BIG = 1009;
  /** An unexpected error while handling this connection. */
  public static final int INTERNAL_ERROR = 1011;
  /** Drain or re-shard: reconnect now, then recover. */
  public static final int SERVICE_RESTART = 1012;
  /** The connection's token expired without a refresh: fetch a new token, reconnect with it and recover. */
  public static final int TOKEN_EXPIRED = 4001;
  /** Authentication required, and no valid token came within {@code auth.timeoutMs} of the upgrade. */
  public static final int AUTH_TIMEOUT = 4002;

  private CloseCodes() {
  }

  /**
   * Whether a close frame may carry {@code code} (RFC 6455 7.4, and the IANA registry for 1012-1014):
   * 1000-1003 and 1007-1014 are defined, 3000-4999 belong to libraries and applications. 1004 is
   * reserved, 1005, 1006 and 1015 must never be sent, and the rest of 0-65535 is unassigned.
   */
  public static boolean isValidInCloseFrame(int code) {
    return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
  }
}
