package io.odinws.ops;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.distribution.CountAtBucket;
import io.micrometer.core.instrument.distribution.HistogramSnapshot;
import io.odinws.router.ShardRegistry;
import io.odinws.router.ShardSlot;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Takes the operator page's {@link OperatorSnapshot}, once a second, from the meters {@code /metrics} exposes, so
 * the page and Prometheus never disagree; the delivery latency histogram and the Kafka lag exist only there. Rates
 * and the latency percentiles are differences from the previous sample. The shards come from the
 * {@link ShardRegistry}: it lists the shards running now, where a removed shard's gauges would linger at 0.
 * Confined to the thread that calls {@link #sample()}.
 */
final class OperatorStats {

  private static final double[] QUANTILES = {0.5, 0.9, 0.99};

  private final MeterRegistry meters;
  private final ShardRegistry shards;
  private final LongSupplier nanos;
  private final long startedNanos;
  private long lastNanos;
  private double lastSent = Double.NaN;
  private double lastReceived = Double.NaN;
  private HistogramSnapshot lastLatency;

  OperatorStats(MeterRegistry meters, ShardRegistry shards) {
    this(meters, shards, System::nanoTime);
  }

  OperatorStats(MeterRegistry meters, ShardRegistry shards, LongSupplier nanos) {
    this.meters = meters;
    this.shards = shards;
    this.nanos = nanos;
    this.startedNanos = nanos.getAsLong();
    this.lastNanos = startedNanos;
  }

  OperatorSnapshot sample() {
    long now = nanos.getAsLong();
    double seconds = (now - lastNanos) / 1e9;
    lastNanos = now;

    List<OperatorSnapshot.Shard> shardList = new ArrayList<>();
    long webSockets = 0;
    for (ShardSlot s : shards.slots()) {
      shardList.add(new OperatorSnapshot.Shard(s.id(), s.connections().get(), s.stats().webSockets(), s.stats().subscriptions()));
      webSockets += s.stats().webSockets();
    }
    double sent = counter("ws_messages_sent", null, null);
    double received = counter("ws_kafka_messages_received", null, null);
    double deliveries = rate(sent, lastSent, seconds);
    double records = rate(received, lastReceived, seconds);
    lastSent = sent;
    lastReceived = received;

    OperatorSnapshot.Latency latency = OperatorSnapshot.Latency.NONE;
    Timer timer = meters.find("ws_delivery_latency").timer();
    if (timer != null) {
      HistogramSnapshot snapshot = timer.takeSnapshot();
      latency = lastSecond(snapshot, lastLatency);
      lastLatency = snapshot;
    }
    OperatorSnapshot.Kafka kafka = new OperatorSnapshot.Kafka(gauge("ws_kafka_connected") >= 1, Math.round(gauge("ws_kafka_lag")),
        records);
    return new OperatorSnapshot(System.currentTimeMillis(), TimeUnit.NANOSECONDS.toSeconds(now - startedNanos), webSockets,
        shardList, deliveries, kafka, latency, Math.round(counter("ws_slow_clients_disconnected", null, null)), rejections(),
        byTag("ws_disconnects", "reason", ""));
  }

  /**
   * The contract's reasons: capacity (full, shutting_down, cpu, heap), rate and per-address limits, origin,
   * authentication refusals ({@code auth_<label>}) and subscription refusals ({@code subscription_<reason>}).
   */
  private Map<String, Long> rejections() {
    Map<String, Long> out = byTag("ws_capacity_rejections", "reason", "");
    out.put("ip_rate", Math.round(counter("ws_connection_rate_limited", "type", "ip")));
    out.put("global_rate", Math.round(counter("ws_connection_rate_limited", "type", "global")));
    out.put("ip_connections", Math.round(counter("ws_connection_rate_limited", "type", "ip_connections")));
    out.put("origin", Math.round(counter("ws_origin_rejections", null, null)));
    byTag("ws_auth", "result", "auth_").forEach((k, v) -> {
      if (!k.equals("auth_ok") && !k.equals("auth_refresh")) {
        out.put(k, v);
      }
    });
    out.putAll(byTag("ws_subscriptions_refused", "reason", "subscription_"));
    return out;
  }

  /** The counters of {@code name} summed by the value of {@code tag}, keys prefixed. */
  private Map<String, Long> byTag(String name, String tag, String prefix) {
    Map<String, Double> sums = new TreeMap<>(); // a stable order, whatever the registry's
    for (FunctionCounter c : meters.find(name).functionCounters()) {
      String value = c.getId().getTag(tag);
      if (value != null) {
        sums.merge(prefix + value, c.count(), Double::sum);
      }
    }
    Map<String, Long> out = new LinkedHashMap<>();
    sums.forEach((k, v) -> out.put(k, Math.round(v)));
    return out;
  }

  /** The sum of the function counters of {@code name}, of those with {@code tag=value} when a tag is given. */
  private double counter(String name, String tag, String value) {
    var search = meters.find(name);
    if (tag != null) {
      search = search.tag(tag, value);
    }
    double sum = 0;
    for (FunctionCounter c : search.functionCounters()) {
      sum += c.count();
    }
    return sum;
  }

  /** The sum of the gauges of {@code name} (the lag has one per partition); 0 when none yet. */
  private double gauge(String name) {
    double sum = 0;
    for (Gauge g : meters.find(name).gauges()) {
      double v = g.value();
      if (Double.isFinite(v)) {
        sum += v;
      }
    }
    return sum;
  }

  private static double rate(double now, double before, double seconds) {
    if (Double.isNaN(before) || seconds <= 0) {
      return 0;
    }
    return round(Math.max(0, now - before) / seconds, 100);
  }

  /**
   * Percentiles and maximum of the samples recorded between {@code before} and {@code now}: the difference of the
   * two cumulative bucket counts, interpolated within a bucket as Prometheus's {@code histogram_quantile} does.
   */
  static OperatorSnapshot.Latency lastSecond(HistogramSnapshot now, HistogramSnapshot before) {
    CountAtBucket[] buckets = now.histogramCounts();
    CountAtBucket[] earlier = before == null ? null : before.histogramCounts();
    long total = now.count() - (before == null ? 0 : before.count());
    if (total <= 0 || buckets.length == 0 || earlier != null && earlier.length != buckets.length) {
      return OperatorSnapshot.Latency.NONE;
    }
    double[] bound = new double[buckets.length];
    double[] cumulative = new double[buckets.length];
    for (int i = 0; i < buckets.length; i++) {
      bound[i] = buckets[i].bucket(TimeUnit.MILLISECONDS);
      cumulative[i] = buckets[i].count() - (earlier == null ? 0 : earlier[i].count());
    }
    // the smallest bucket holding every sample bounds the maximum; the timer's own maximum is exact when it falls in it
    double timerMax = now.max(TimeUnit.MILLISECONDS);
    double max = timerMax;
    for (int i = 0; i < buckets.length; i++) {
      if (cumulative[i] >= total) {
        double lower = i == 0 ? 0 : bound[i - 1];
        max = timerMax > lower && timerMax <= bound[i] ? timerMax : bound[i];
        break;
      }
    }
    double[] q = new double[QUANTILES.length];
    for (int k = 0; k < QUANTILES.length; k++) {
      double rank = QUANTILES[k] * total;
      q[k] = max; // above the last bucket
      for (int i = 0; i < buckets.length; i++) {
        if (cumulative[i] >= rank) {
          double lower = i == 0 ? 0 : bound[i - 1];
          double below = i == 0 ? 0 : cumulative[i - 1];
          double in = cumulative[i] - below;
          q[k] = Math.min(max, in <= 0 ? bound[i] : lower + (bound[i] - lower) * (rank - below) / in);
          break;
        }
      }
    }
    return new OperatorSnapshot.Latency(round(q[0], 1000), round(q[1], 1000), round(q[2], 1000), round(max, 1000));
  }

  private static double round(double v, double scale) {
    return Math.round(v * scale) / scale;
  }
}
