package io.odinws.config;

/**
 * Per-connection protection (PROTOCOL.md section 7).
 *
 * @param messagesPerSecond      inbound token-bucket refill rate
 * @param messageBurst           inbound token-bucket size
 * @param floodFactor            {@code floodFactor * messagesPerSecond} is the flooding threshold (messages per second)
 * @param floodSeconds           a client that has sent this many seconds' worth of the threshold more than the
 *                               threshold's pace allows is closed with 1008
 * @param outboundHighWaterBytes bytes queued for a connection above which it counts as slow (channel write-buffer high water mark)
 * @param outboundHardCapBytes   bytes queued above which a connection is closed with 1008 at once
 * @param slowClientGraceMs      how long a connection may stay slow before it is closed with 1008
 */
public record LimitsConfig(
    int messagesPerSecond,
    int messageBurst,
    int floodFactor,
    int floodSeconds,
    int outboundHighWaterBytes,
    int outboundHardCapBytes,
    long slowClientGraceMs) {
}
