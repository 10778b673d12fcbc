package io.odinws.config;

/** The public port: WebSocket upgrades on {@code /ws}, plus {@code /health} and {@code /metrics}. */
public record HttpConfig(String host, int port) {
}
