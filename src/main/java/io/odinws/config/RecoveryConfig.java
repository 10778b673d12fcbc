package io.odinws.config;

/**
 * Recovery (PROTOCOL.md section 6).
 *
 * @param historyBytes           in-memory history of recent frames, all partitions together
 * @param historyMaxAgeMs        frames older than this leave the history
 * @param maxMessagesPerRequest  messages one reconnect may replay over all its channels; the rest is reported not recovered
 * @param maxMessagesPerSecond   replayed messages per second per shard; a request beyond it recovers what fits
 * @param kafkaReadTimeoutMs     a read of older positions from Kafka gives up after this
 * @param maxRecordsPerKafkaRead records one Kafka read may fetch (a bound on its memory)
 * @param maxHeldBackPerChannel  live messages held back for a channel while it replays; beyond it the channel is not recovered
 * @param maxSnapshotMessages    messages a subscribe's {@code snapshot} may ask per channel (larger asks are clamped); 0 disables snapshots
 */
public record RecoveryConfig(
    long historyBytes,
    long historyMaxAgeMs,
    int maxMessagesPerRequest,
    int maxMessagesPerSecond,
    long kafkaReadTimeoutMs,
    int maxRecordsPerKafkaRead,
    int maxHeldBackPerChannel,
    int maxSnapshotMessages) {
}
