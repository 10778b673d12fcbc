package io.odinws.config;

/** Per-connection WebSocket limits and timers (PROTOCOL.md sections 1 and 7). */
public record WsConfig(
    String path,
    int maxMessageBytes,
    int maxChannelsPerConnection,
    long pingIntervalMs,
    long idleTimeoutMs,
    long handshakeTimeoutMs) {
}
