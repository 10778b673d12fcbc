package io.odinws;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.odinws.bus.BatchBus;
import io.odinws.config.ConfigLoader;
import io.odinws.config.OdinConfig;
import io.netty.buffer.PooledByteBufAllocator;
import io.odinws.ingest.FrameEncoder;
import io.odinws.ingest.IngestStats;
import io.odinws.recovery.History;
import io.odinws.recovery.KafkaReplayReader;
import io.odinws.ingest.KafkaIngestVerticle;
import io.odinws.ops.DisconnectReason;
import io.odinws.ops.HealthReport;
import io.odinws.ops.Readiness;
import io.odinws.ops.ServerState;
import io.odinws.protocol.CloseCodes;
import io.odinws.ops.PublicEndpoints;
import io.odinws.ops.ServerMeters;
import io.odinws.ops.ServerMetrics;
import io.odinws.shard.ShardServices;
import io.odinws.router.RouterVerticle;
import io.odinws.router.ShardRegistry;
import io.odinws.router.ShardSlot;
import io.odinws.router.admission.Admission;
import io.odinws.router.admission.ResourceGuard;
import io.odinws.shard.ShardVerticle;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.ThreadingModel;
import io.vertx.core.VerticleBase;
import io.vertx.micrometer.backends.BackendRegistries;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The main verticle: resolves the configuration, then deploys the shards (first, so each gets its
 * own event loop), the router on the public port, and the Kafka worker. Deployable by
 * {@link Main}, by the Vert.x CLI ({@code run io.odinws.OdinServer -conf ...}), or by tests.
 */
public final class OdinServer extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(OdinServer.class);

  private final ShardRegistry registry = new ShardRegistry();
  private final IngestStats ingest = new IngestStats();
  private final ServerState state = new ServerState();
  private final List<ShardVerticle> shardVerticles = new CopyOnWriteArrayList<>();
  private OdinConfig config;
  private RouterVerticle router;
  private PrometheusMeterRegistry prometheus;
  private Admission admission;
  private History history;
  private ServerMeters meters;
  private KafkaReplayReader replayReader;

  @Override
  public Future<?> start() {
    long t0 = System.nanoTime();
    config = ConfigLoader.resolve(config(), System.getenv());
    BatchBus.registerCodec(vertx.eventBus());
    prometheus = prometheusRegistry();
    HealthReport health = new HealthReport(registry, ingest, state);
    Readiness readiness = new Readiness(vertx, registry, ingest, state);
    PublicEndpoints endpoints = new PublicEndpoints() {
      @Override
      public Health health() {
        return health.render();
      }

      @Override
      public Future<Health> ready() {
        return readiness.check();
      }

      @Override
      public String metrics() {
        return prometheus.scrape();
      }
    };
    ResourceGuard guard = new ResourceGuard(config.admission());
    admission = new Admission(config.admission(), guard);
    // The guard samples CPU and heap once a second; idle per-IP buckets are dropped every 10 s.
    vertx.setPeriodic(1_000, t -> guard.sample());
    vertx.setPeriodic(10_000, t -> admission.evictIdle());
    history = new History(config.recovery(), new FrameEncoder(PooledByteBufAllocator.DEFAULT));
    replayReader = new KafkaReplayReader(config.kafka(), config.recovery());
    meters = ServerMeters.create(prometheus);
    ShardServices services = new ShardServices(registry, endpoints, admission, history, replayReader, meters);
    int shards = config.shardCount();
    AtomicInteger ids = new AtomicInteger();
    router = new RouterVerticle(config.http(), registry, endpoints, state);
    return vertx.deployVerticle(() -> {
          ShardVerticle shard = new ShardVerticle(ids.getAndIncrement(), config, services);
          shardVerticles.add(shard);
          return shard;
        },
            new DeploymentOptions().setInstances(shards))
        .compose(id -> checkDistinctLoops(shards))
        .compose(v -> vertx.deployVerticle(router))
        .compose(id -> vertx.deployVerticle(new KafkaIngestVerticle(config.kafka(), ingest, history, meters),
            new DeploymentOptions().setThreadingModel(ThreadingModel.WORKER)))
        .onSuccess(id -> {
          ServerMetrics.bind(prometheus, registry, ingest, router, admission, shards);
          LOG.info("event=server_started mode={} shards={} port={} max_connections={} kafka={} startup_ms={}",
              config.mode().name().toLowerCase(), shards, router.port(), config.maxConnections(), config.kafka().bootstrap(),
              (System.nanoTime() - t0) / 1_000_000);
        });
  }

  /**
   * Graceful shutdown, before the Vert.x instance closes: readiness goes false, the router refuses
   * new sockets with 503 "Server is shutting down", every WebSocket gets close 1001, and this
   * completes when all have closed or {@code shutdown.drainMs} has passed.
   */
  public Future<Void> drain() {
    state.startDraining();
    long t0 = System.nanoTime();
    int open = registry.totalConnections();
    LOG.info("event=drain_started connections={} drain_ms={}", open, config.drainMs());
    List<Future<Void>> shards = shardVerticles.stream()
        .map(s -> s.drain(CloseCodes.GOING_AWAY, "Server shutting down", DisconnectReason.SHUTDOWN)).toList();
    return Future.all(shards).<Void>mapEmpty()
        .timeout(config.drainMs(), TimeUnit.MILLISECONDS)
        .recover(e -> Future.succeededFuture())
        .onComplete(v -> LOG.info("event=drain_finished remaining_connections={} took_ms={}",
            shardVerticles.stream().mapToInt(s -> s.slot().connections().get()).sum(),
            (System.nanoTime() - t0) / 1_000_000));
  }

  @Override
  public Future<?> stop() {
    // Undeployment stops the child verticles first; what they shared goes last.
    if (replayReader != null) {
      replayReader.close();
    }
    if (history != null) {
      history.clear();
    }
    return Future.succeededFuture();
  }

  /** Vert.x hands out event loops round-robin; two shards on one loop would halve throughput silently. */
  private Future<Void> checkDistinctLoops(int shards) {
    List<ShardSlot> slots = registry.slots();
    Set<Object> loops = new HashSet<>();
    slots.forEach(s -> loops.add(s.loop()));
    if (slots.size() != shards || loops.size() != shards) {
      return Future.failedFuture("shards share event loops (" + loops.size() + " loops for " + shards
          + " shards): raise the event-loop pool size to at least the shard count");
    }
    return Future.succeededFuture();
  }

  /** The Vert.x Micrometer registry when metrics are enabled (the jar's Main does), else a private one. */
  private static PrometheusMeterRegistry prometheusRegistry() {
    MeterRegistry vertxRegistry = BackendRegistries.getDefaultNow();
    if (vertxRegistry instanceof PrometheusMeterRegistry p) {
      return p;
    }
    return new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  }

  public OdinConfig configuration() {
    return config;
  }

  public ShardRegistry shards() {
    return registry;
  }

  public History history() {
    return history;
  }

  public KafkaReplayReader replayReader() {
    return replayReader;
  }

  public IngestStats ingest() {
    return ingest;
  }

  /** The deployed shards, for operations and tests. */
  public List<ShardVerticle> shardVerticles() {
    return List.copyOf(shardVerticles);
  }

  /** The bound public port. */
  public int port() {
    return router.port();
  }
}
