package io.odinws.protocol;

/** The {@code error} replies of PROTOCOL.md section 3: the connection stays open. */
public record ErrorReply(String code, String message) {

  public static final ErrorReply INVALID_JSON = new ErrorReply("INVALID_MESSAGE", "Message is not a valid JSON object");
  public static final ErrorReply MISSING_TYPE = new ErrorReply("INVALID_MESSAGE", "Message has no string \"type\"");
  /**
   * The Go server's {@code {"type":"replay","data":{"from":..,"to":..}}}: a range of one connection's
   * counter, which means nothing across connections; recovery is by channel position instead.
   */
  public static final ErrorReply REPLAY_UNSUPPORTED = new ErrorReply("REPLAY_UNSUPPORTED",
      "'replay' is not supported: send {\"type\":\"reconnect\",\"data\":{\"last_offset\":{\"BTC.trade\":\"3:1042\"}}}"
          + " with the last \"pos\" you received on each channel; the server sends what you missed, then reconnect_ack");
  public static final ErrorReply BINARY = new ErrorReply("BINARY_NOT_SUPPORTED", "Binary frames are not supported; send JSON text frames");

  static ErrorReply unknownType(String type) {
    return new ErrorReply("UNKNOWN_TYPE", "Unknown message type '" + abbreviate(type)
        + "'; expected subscribe, unsubscribe, heartbeat, reconnect or auth");
  }

  static ErrorReply malformedData(String type, String expected) {
    return new ErrorReply("INVALID_MESSAGE", "Malformed data for '" + type + "': " + expected);
  }

  private static String abbreviate(String s) {
    return s.length() <= 64 ? s : s.substring(0, 64) + "…";
  }
}
