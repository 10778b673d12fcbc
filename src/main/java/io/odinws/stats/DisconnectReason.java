package io.odinws.stats;

/** Why a WebSocket ended; metric labels {@code reason} and {@code initiated_by}. */
public enum DisconnectReason {
  CLIENT_CLOSE("client_close", "client"),
  CONNECTION_LOST("connection_lost", "client"),
  IDLE_TIMEOUT("idle_timeout", "server"),
  SLOW_CLIENT("slow_client", "server"),
  FLOODING("flooding", "server"),
  MESSAGE_TOO_BIG("message_too_big", "server"),
  PROTOCOL_ERROR("protocol_error", "server"),
  INTERNAL_ERROR("internal_error", "server"),
  SHUTDOWN("shutdown", "server"),
  OVERLOAD("overload", "server"),
  RESHARD("reshard", "server"),
  TOKEN_EXPIRED("token_expired", "server"),
  AUTH_TIMEOUT("auth_timeout", "server");

  public final String label;
  public final String initiatedBy;

  DisconnectReason(String label, String initiatedBy) {
    this.label = label;
    this.initiatedBy = initiatedBy;
  }
}
