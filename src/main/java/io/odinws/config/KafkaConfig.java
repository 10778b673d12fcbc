package io.odinws.config;

import java.util.Map;

/**
 * The Kafka input. {@code topics} maps each topic to the channel category its records belong to;
 * every partition of every topic is read by every server instance (no consumer group).
 */
public record KafkaConfig(
    String bootstrap,
    Map<String, String> topics,
    long pollTimeoutMs,
    int fetchMaxWaitMs,
    long healthCheckIntervalMs) {
}
