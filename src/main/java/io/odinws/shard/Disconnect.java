package io.odinws.shard;

import io.odinws.protocol.CloseCodes;
import io.odinws.stats.DisconnectReason;

/**
 * How and why the server ends a WebSocket: the close code and reason text the client sees
 * (PROTOCOL.md section 7) and the metric label, always together.
 */
public record Disconnect(int code, String reason, DisconnectReason label) {

  public static final Disconnect SHUTDOWN = new Disconnect(CloseCodes.GOING_AWAY, "Server shutting down", DisconnectReason.SHUTDOWN);
  public static final Disconnect RESHARD = new Disconnect(CloseCodes.SERVICE_RESTART, "Service restart: reconnect now", DisconnectReason.RESHARD);
  static final Disconnect IDLE = new Disconnect(CloseCodes.GOING_AWAY, "Idle timeout", DisconnectReason.IDLE_TIMEOUT);
  static final Disconnect SLOW = new Disconnect(CloseCodes.POLICY, "Client too slow to process messages", DisconnectReason.SLOW_CLIENT);
  static final Disconnect OVERLOAD = new Disconnect(CloseCodes.SERVICE_RESTART, "Server overloaded: reconnect and recover", DisconnectReason.OVERLOAD);
  static final Disconnect TOO_BIG = new Disconnect(CloseCodes.TOO_BIG, "Message too big", DisconnectReason.MESSAGE_TOO_BIG);
  static final Disconnect INTERNAL_ERROR = new Disconnect(CloseCodes.INTERNAL_ERROR, "Internal error", DisconnectReason.INTERNAL_ERROR);

  static final Disconnect TOKEN_EXPIRED = new Disconnect(CloseCodes.TOKEN_EXPIRED,
      "Token expired", DisconnectReason.TOKEN_EXPIRED);
  static final Disconnect AUTH_TIMEOUT = new Disconnect(CloseCodes.AUTH_TIMEOUT,
      "Authentication timeout", DisconnectReason.AUTH_TIMEOUT);

  static Disconnect flooding(int messagesPerSecond) {
    return new Disconnect(CloseCodes.POLICY, "Flooding: over " + messagesPerSecond + " messages per second", DisconnectReason.FLOODING);
  }
}
