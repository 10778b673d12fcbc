package io.odinws.stats;

import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

import java.time.Duration;

/**
 * The histograms components record into directly. Each is recorded once per batch, per poll or per
 * connection, never per delivery.
 *
 * @param deliveryLatency   server in (the poll's arrival) to written, one sample per shard per batch
 * @param connectionLength  how long WebSocket connections lasted, one sample per close
 * @param batchSize         messages per Kafka poll
 */
public record ServerMeters(MeterRegistry registry, Timer deliveryLatency, Timer connectionLength, DistributionSummary batchSize) {

  public static ServerMeters create(MeterRegistry registry) {
    return new ServerMeters(registry,
        Timer.builder("ws_delivery_latency")
            .description("Server in (Kafka poll received) to written to the sockets, per shard per batch")
            .publishPercentileHistogram().minimumExpectedValue(Duration.ofMillis(1)).maximumExpectedValue(Duration.ofSeconds(10))
            .register(registry),
        Timer.builder("ws_connection_duration")
            .description("How long WebSocket connections lasted")
            .publishPercentileHistogram().minimumExpectedValue(Duration.ofSeconds(1)).maximumExpectedValue(Duration.ofDays(1))
            .register(registry),
        DistributionSummary.builder("ws_batch_size")
            .description("Messages per Kafka poll (one batch on the bus)")
            .publishPercentileHistogram().minimumExpectedValue(1.0).maximumExpectedValue(10_000.0)
            .register(registry));
  }
}
