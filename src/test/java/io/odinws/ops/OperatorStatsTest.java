package io.odinws.ops;

import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.distribution.HistogramSnapshot;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.odinws.stats.ServerMeters;
import org.junit.jupiter.api.Test;

import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The operator page's latency is that of the last second: percentiles of the samples recorded between two
 * snapshots of the server's own {@code ws_delivery_latency} histogram, whatever came before.
 */
class OperatorStatsTest {

  private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final Timer latency = ServerMeters.create(registry).deliveryLatency();

  @Test
  void percentilesAreOfTheSamplesSinceThePreviousSnapshotOnly() {
    for (int i = 0; i < 1000; i++) {
      latency.record(900, TimeUnit.MILLISECONDS); // an earlier, slow second
    }
    HistogramSnapshot before = latency.takeSnapshot();
    for (int i = 1; i <= 100; i++) {
      latency.record(i, TimeUnit.MILLISECONDS); // this second: 1..100 ms
    }
    OperatorSnapshot.Latency l = OperatorStats.lastSecond(latency.takeSnapshot(), before);
    // bucket interpolation: within the bucket holding the true value, which is at most a quarter wider than it
    assertBetween(50, l.p50(), 1.3);
    assertBetween(90, l.p90(), 1.3);
    assertBetween(99, l.p99(), 1.3);
    assertBetween(100, l.max(), 1.3);
    assertTrue(l.p50() <= l.p90() && l.p90() <= l.p99() && l.p99() <= l.max(), l.toString());
  }

  @Test
  void aSecondWithoutSamplesIsZero() {
    latency.record(5, TimeUnit.MILLISECONDS);
    HistogramSnapshot before = latency.takeSnapshot();
    assertEquals(OperatorSnapshot.Latency.NONE, OperatorStats.lastSecond(latency.takeSnapshot(), before));
    assertEquals(OperatorSnapshot.Latency.NONE, OperatorStats.lastSecond(Timer.builder("empty").register(registry).takeSnapshot(), null));
  }

  @Test
  void aSampleAboveTheLastBucketIsTheMaximum() {
    HistogramSnapshot before = latency.takeSnapshot();
    latency.record(30, TimeUnit.SECONDS); // above maximumExpectedValue
    OperatorSnapshot.Latency l = OperatorStats.lastSecond(latency.takeSnapshot(), before);
    assertEquals(30_000, l.max(), 1);
    assertEquals(30_000, l.p99(), 1);
  }

  private static void assertBetween(double expected, double actual, double factor) {
    assertTrue(actual >= expected / factor && actual <= expected * factor, "expected about " + expected + ", got " + actual);
  }
}
