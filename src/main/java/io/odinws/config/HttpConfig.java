package io.odinws.config;

/**
 * The public port: WebSocket upgrades on {@code /ws}, plus {@code /health} and {@code /metrics}.
 *
 * @param reusePort listen with {@code SO_REUSEPORT}, so that a second process can bind the same port while this one
 *                  runs (a restart on one host without a gap: start the new one, then stop the old); when it drains, a
 *                  server with this on stops listening at once, so that new connections go to the other process
 *                  instead of being refused with 503
 */
public record HttpConfig(String host, int port, boolean reusePort) {
}
