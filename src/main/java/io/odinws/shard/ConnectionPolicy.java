package io.odinws.shard;

import io.odinws.config.LimitsConfig;
import io.odinws.config.WsConfig;

import java.util.concurrent.TimeUnit;

/**
 * The per-connection limits and timers of a shard, in the units the loop compares them in.
 *
 * @param floodThreshold messages per second beyond which a client floods, once it has kept that up
 *                       for {@code floodSeconds} worth of messages (see {@link InboundLimiter})
 */
record ConnectionPolicy(long pingEveryNanos, long idleAfterNanos, long handshakeWithinNanos, long slowGraceNanos,
                        long hardCapBytes, int messagesPerSecond, int messageBurst, int floodThreshold, int floodSeconds) {

  static ConnectionPolicy of(WsConfig ws, LimitsConfig limits) {
    return new ConnectionPolicy(
        TimeUnit.MILLISECONDS.toNanos(ws.pingIntervalMs()),
        TimeUnit.MILLISECONDS.toNanos(ws.idleTimeoutMs()),
        TimeUnit.MILLISECONDS.toNanos(ws.handshakeTimeoutMs()),
        TimeUnit.MILLISECONDS.toNanos(limits.slowClientGraceMs()),
        limits.outboundHardCapBytes(),
        limits.messagesPerSecond(),
        limits.messageBurst(),
        limits.floodFactor() * limits.messagesPerSecond(),
        limits.floodSeconds());
  }
}
