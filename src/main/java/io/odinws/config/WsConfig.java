package io.odinws.config;

/**
 * Per-connection WebSocket limits and timers (PROTOCOL.md sections 1 and 7).
 *
 * @param flushDelayMicros how long a shard waits after writing a batch before it flushes, so that
 *                         later batches share the flush (one syscall per connection for all of them);
 *                         0 = flush as soon as the batches already queued on the loop are written
 * @param compression      permessage-deflate ({@code ws.compression})
 */
public record WsConfig(
    String path,
    int maxMessageBytes,
    int maxChannelsPerConnection,
    long pingIntervalMs,
    long idleTimeoutMs,
    long handshakeTimeoutMs,
    long flushDelayMicros,
    CompressionConfig compression) {
}
