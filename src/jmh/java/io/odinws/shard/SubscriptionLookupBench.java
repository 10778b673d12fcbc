package io.odinws.shard;

import io.odinws.bench.FastThreadExecutor;
import io.odinws.bench.OdinValues;
import io.odinws.config.ConfigLoader;
import io.odinws.config.OdinConfig;
import io.odinws.envelope.ChannelKeys;
import io.vertx.core.json.JsonObject;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * {@link SubscriptionIndex#get} as the shard's fan-out uses it, with 160 channels (the demo: 20
 * tokens x 8 categories) and 10,000 channels (1,250 tokens x 8 categories), one subscriber each.
 *
 * <p>As in the server, the looked-up strings are the ingest worker's interned {@link ChannelKeys}
 * (hash cached), and the index's keys are other String instances with the same text (they come from
 * clients' subscribe requests), so every hit compares the bytes. Channels are looked up in a fixed
 * random order over all of them, not one hot key.
 *
 * <ul>
 *   <li>{@link #exact}: one lookup, a hit (ns per lookup).</li>
 *   <li>{@link #perMessage}: the three lookups of one message (exact, {@code TOKEN.*},
 *       {@code *.category}); with no wildcard subscriber the two wildcard ones miss, the common case
 *       (ns per message).</li>
 * </ul>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsPrepend = {"-Xms1g", "-Xmx1g", FastThreadExecutor.EXECUTOR, FastThreadExecutor.EXECUTOR_CLASS,
    FastThreadExecutor.NO_LEAK_SAMPLING})
@State(Scope.Thread)
public class SubscriptionLookupBench {

  private static final int ORDER = 1 << 14;

  @Param({"160", "10000"})
  public int channels;

  private final SubscriptionIndex index = new SubscriptionIndex(new io.odinws.stats.ShardStats());
  private ChannelKeys[] order;
  private int next;

  @Setup
  public void setup() {
    // A connection needs its shard's limits (its inbound limiter); the index touches nothing else of the scope.
    OdinConfig config = ConfigLoader.resolve(new JsonObject(), Map.of());
    ShardScope scope = new ShardScope(0, null, ConnectionPolicy.of(config.ws(), config.limits()), null, null, null);
    List<String> categories = OdinValues.categories();
    String[] tokens = OdinValues.tokens(channels / categories.size());
    ChannelKeys[] all = new ChannelKeys[tokens.length * categories.size()];
    int n = 0;
    for (String token : tokens) {
      for (String category : categories) {
        ChannelKeys keys = ChannelKeys.of(token, category);
        all[n++] = keys;
        Connection c = new Connection(scope, 0);
        index.add(c, new String(keys.channel())); // a distinct instance, as parsed from a subscribe request
      }
    }
    if (index.channelCount() != channels) {
      throw new IllegalStateException("index has " + index.channelCount() + " channels, expected " + channels);
    }
    SplittableRandom rng = new SplittableRandom(11);
    order = new ChannelKeys[ORDER];
    for (int i = 0; i < ORDER; i++) {
      order[i] = all[rng.nextInt(all.length)];
    }
  }

  private ChannelKeys nextKeys() {
    ChannelKeys k = order[next];
    next = (next + 1) & (ORDER - 1);
    return k;
  }

  @Benchmark
  public Subscribers exact() {
    return index.get(nextKeys().channel());
  }

  @Benchmark
  public void perMessage(Blackhole bh) {
    ChannelKeys keys = nextKeys();
    bh.consume(index.get(keys.channel()));
    bh.consume(index.get(keys.tokenWildcard()));
    bh.consume(index.get(keys.categoryWildcard()));
  }
}
