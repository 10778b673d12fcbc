package io.odinws;

import io.odinws.cli.Main;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.odinws.bus.BatchBus;
import io.odinws.auth.AuthContext;
import io.odinws.auth.AuthStats;
import io.odinws.auth.JwtVerifier;
import io.odinws.auth.UserLimit;
import io.odinws.config.AuthConfig;
import io.odinws.config.ConfigLoader;
import io.odinws.config.OpsConfig;
import io.odinws.config.OdinConfig;
import io.odinws.internal.VertxInternals;
import io.netty.buffer.PooledByteBufAllocator;
import io.odinws.envelope.FrameEncoder;
import io.odinws.ingest.IngestConsumer;
import io.odinws.ingest.IngestStats;
import io.odinws.recovery.History;
import io.odinws.recovery.KafkaReplayReader;
import io.odinws.ingest.KafkaIngestVerticle;
import io.odinws.envelope.RecordOwners;
import io.odinws.envelope.DeflateDemand;
import io.odinws.ops.HealthReport;
import io.odinws.ops.OpsVerticle;
import io.odinws.ops.PagesSetup;
import io.odinws.ops.Readiness;
import io.odinws.stats.ServerState;
import io.odinws.stats.ThreadCpu;
import io.odinws.http.PublicEndpoints;
import io.odinws.stats.ServerMeters;
import io.odinws.ops.ServerMetrics;
import io.odinws.shard.Disconnect;
import io.odinws.shard.ShardServices;
import io.odinws.router.PreboundPort;
import io.odinws.router.RouterVerticle;
import io.odinws.router.ShardRegistry;
import io.odinws.router.ShardSlot;
import io.odinws.shard.admission.Admission;
import io.odinws.shard.admission.ResourceGuard;
import io.odinws.shard.ShardVerticle;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.ThreadingModel;
import io.vertx.config.ConfigRetriever;
import io.vertx.config.ConfigRetrieverOptions;
import io.vertx.config.ConfigStoreOptions;
import io.vertx.core.VerticleBase;
import io.vertx.core.json.JsonObject;
import io.vertx.micrometer.backends.BackendRegistries;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The main verticle: resolves the configuration, deploys the operations port (serving on a thread of
 * its own), then the shards (before the other verticles, so each gets its own event loop), then the router on
 * the public port and the Kafka worker side by side. Deployable by
 * {@link Main}, by the Vert.x CLI ({@code run io.odinws.OdinServer -conf ...}), or by tests.
 */
public final class OdinServer extends VerticleBase {

  /** Set by {@link Main} when {@code -conf} names a file: the file to watch for live changes. */
  public static final String CONFIG_FILE_KEY = "configFile";

  private static final Logger LOG = LoggerFactory.getLogger(OdinServer.class);

  private final ShardRegistry registry = new ShardRegistry();
  private final IngestStats ingest = new IngestStats();
  private final ServerState state = new ServerState();
  private final List<ShardVerticle> shardVerticles = new CopyOnWriteArrayList<>();
  private final Map<ShardVerticle, String> shardDeployments = new ConcurrentHashMap<>();
  private final AtomicInteger nextShardId = new AtomicInteger();
  /** The shards' event-loop threads, whose CPU the resource guard watches. */
  private final ThreadCpu shardCpu = new ThreadCpu();
  /** Configuration changes apply one at a time, in order. */
  private Future<Void> reconfiguring = Future.succeededFuture();
  private ShardServices services;
  private ConfigRetriever retriever;
  private OdinConfig config;
  /** Set by the start; read by {@link #drain()} from the shutdown hook's thread. */
  private volatile RouterVerticle router;
  /** Set from the shutdown hook's thread before Vert.x closes (see {@link #abandonStart()}). */
  private volatile boolean startAbandoned;
  private PrometheusMeterRegistry prometheus;
  private Admission admission;
  private History history;
  private ServerMeters meters;
  private KafkaReplayReader replayReader;
  private OpsVerticle ops;
  private AuthContext auth;
  /** The public port when {@link Main} bound it before starting the server; the router adopts it. */
  private final PreboundPort prebound;
  private final IngestConsumer consumer;

  /** A server that binds its public port when the router starts (the Vert.x CLI, tests). */
  public OdinServer() {
    this(null);
  }

  /** @param prebound the public port, already listening ({@link PreboundPort#bind}), or null */
  public OdinServer(PreboundPort prebound) {
    this(prebound, IngestConsumer.inPlace());
  }

  /**
   * @param prebound the public port, already listening ({@link PreboundPort#bind}), or null
   * @param consumer where the ingest's Kafka consumer comes from ({@link IngestConsumer#ahead}: begun before the server)
   */
  public OdinServer(PreboundPort prebound, IngestConsumer consumer) {
    this.prebound = prebound;
    this.consumer = consumer;
  }

  @Override
  public Future<?> start() {
    long t0 = System.nanoTime();
    // before anything relies on them: a Vert.x whose internals changed stops here, naming the one
    VertxInternals.check(vertx);
    config = ConfigLoader.resolve(config(), System.getenv());
    BatchBus.registerCodec(vertx.eventBus());
    prometheus = prometheusRegistry();
    HealthReport health = new HealthReport(registry, ingest, state, config.ops().shardStallMs(), config.admission(),
        () -> admission == null ? null : admission.guard());
    Readiness readiness = new Readiness(vertx, registry, ingest, state);
    PublicEndpoints endpoints = new PublicEndpoints() {
      @Override
      public Health health() {
        return health.render();
      }

      @Override
      public Health live() {
        return health.live();
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
    ResourceGuard guard = new ResourceGuard(config.admission(), shardCpu::percent);
    admission = new Admission(config.admission(), guard);
    // The guard samples the shards' CPU and the heap once a second; idle per-IP buckets are dropped every 10 s.
    vertx.setPeriodic(1_000, t -> guard.sample());
    vertx.setPeriodic(10_000, t -> admission.evictIdle());
    history = new History(config.recovery(), new FrameEncoder(PooledByteBufAllocator.DEFAULT));
    // auth off: every topic public (the configured private topics apply only with authentication)
    RecordOwners privateTopics = RecordOwners.of(config.auth().effectivePrivateTopics());
    replayReader = new KafkaReplayReader(config.kafka(), config.recovery(), privateTopics);
    meters = ServerMeters.create(prometheus);
    auth = authContext(config.auth());
    DeflateDemand deflateDemand = new DeflateDemand();
    ShardServices services = new ShardServices(registry, endpoints, admission, history, replayReader, meters, auth, deflateDemand);
    int shards = config.shardCount();
    router = new RouterVerticle(config.http(), registry, endpoints, state, prebound);
    this.services = services;
    // the operations port first: probes get an answer (not ready yet) while the rest starts
    Future<?> opsDeployed = Future.succeededFuture();
    if (config.ops().enabled()) {
      RouterVerticle publicPort = router;
      ops = new OpsVerticle(config.ops(), endpoints,
          new PagesSetup(config.pages(), config.ws().path(), publicPort::port, prometheus, registry));
      opsDeployed = vertx.deployVerticle(ops);
    }
    return opsDeployed
        .compose(v -> deployShards(shards, config))
        .compose(v -> checkDistinctLoops(shards))
        .compose(v -> {
          // The router and the Kafka worker side by side: the worker's consumer (built and assigned there, or taken
          // from the thread Main began it on) needs no listening router. Not before the shards: the
          // worker and its consumer thread each take a loop of the pool, which would then wrap onto a shard's.
          Future<String> routerDeployed = vertx.deployVerticle(router);
          Future<String> ingestDeployed = vertx.deployVerticle(new KafkaIngestVerticle(config.kafka(), consumer, ingest, history, meters, privateTopics,
              config.ws().compression(), deflateDemand),
              new DeploymentOptions().setThreadingModel(ThreadingModel.WORKER));
          return Future.all(routerDeployed, ingestDeployed);
        })
        .onSuccess(id -> {
          ServerMetrics.bind(prometheus, registry, ingest, router, admission, auth.stats(), deflateDemand);
          watchConfiguration();
          LOG.info("event=server_started mode={} shards={} port={} ops_port={} max_connections={} kafka={} transport={} startup_ms={}",
              config.mode().name().toLowerCase(), shards, router.port(), opsPort(), config.maxConnections(), config.kafka().bootstrap(),
              vertx.isNativeTransportEnabled() ? "native" : "nio", (System.nanoTime() - t0) / 1_000_000);
        })
        .onFailure(e -> {
          if (prebound != null) {
            prebound.close(); // the router never took it
          }
        })
        // Abandoned: Vert.x's close fails a start still pending by itself; a second answer to its start promise
        // would be refused (an IllegalStateException Vert.x logs as an unhandled exception), so give none.
        .transform(ar -> startAbandoned ? Promise.<Void>promise().future()
            : ar.succeeded() ? Future.<Void>succeededFuture() : Future.<Void>failedFuture(ar.cause()));
  }

  /**
   * The exit began (SIGTERM) and Vert.x is about to close: a start still under way ends with Vert.x's own failure
   * of it, not with this server's answer. No effect once the start has answered.
   */
  public void abandonStart() {
    startAbandoned = true;
  }

  /** Deploys {@code count} shards one by one, each on the next event loop, with ids after the existing ones. */
  private Future<Void> deployShards(int count, OdinConfig cfg) {
    Future<Void> chain = Future.succeededFuture();
    for (int i = 0; i < count; i++) {
      chain = chain.compose(v -> {
        ShardVerticle shard = new ShardVerticle(nextShardId.getAndIncrement(), cfg, services);
        return vertx.deployVerticle(shard).map(id -> {
          shardVerticles.add(shard);
          shardDeployments.put(shard, id);
          shard.eventLoop().execute(() -> shardCpu.track(Thread.currentThread()));
          return null;
        });
      });
    }
    return chain;
  }

  /**
   * Live configuration (issue: a Kubernetes ConfigMap edited in place): the file given with
   * {@code -conf} is scanned every {@code reload.scanPeriodMs}; mode, shard count and the
   * connection maximum apply without a restart. Other keys are read at start only. The file store
   * reads the path anew on each scan, so it follows the kubelet's swap of the {@code ..data} symlink
   * (ConfigMapLiveReloadTest).
   */
  private void watchConfiguration() {
    String file = config().getString(CONFIG_FILE_KEY);
    if (file == null) {
      return;
    }
    retriever = ConfigRetriever.create(vertx, new ConfigRetrieverOptions()
        .setScanPeriod(config.reloadScanPeriodMs())
        .addStore(new ConfigStoreOptions().setType("file").setFormat("json").setConfig(new JsonObject().put("path", file))));
    retriever.listen(change -> reconfigure(change.getNewConfiguration()));
    retriever.getConfig().onFailure(e -> LOG.warn("event=config_watch_failed file={} error=\"{}\"", file, e.getMessage()));
    LOG.info("event=config_watched file={} scan_ms={}", file, config.reloadScanPeriodMs());
  }

  /** Validates a changed file and applies it; an invalid one is refused and the running configuration stays. */
  void reconfigure(JsonObject raw) {
    OdinConfig next;
    try {
      next = ConfigLoader.resolve(raw, System.getenv());
    } catch (RuntimeException e) {
      state.configRejected();
      LOG.warn("event=config_rejected error=\"{}\" action=\"the running configuration stays; fix the file\"", e.getMessage());
      return;
    }
    List<String> startOnly = startOnlyChanges(config, next);
    if (!startOnly.isEmpty()) {
      LOG.warn("event=config_restart_required keys={} action=\"applied at the next start (kubectl rollout restart); mode, shards and"
          + " maxConnections apply now\"", String.join(",", startOnly));
    }
    OdinConfig live = withSharding(config, next);
    reconfiguring = reconfiguring.transform(ignored -> applySharding(live));
  }

  /** Authentication's shared parts; with it on, the verifier's key files are re-read every {@code auth.keyReloadMs}. */
  private AuthContext authContext(AuthConfig config) {
    if (!config.enabled()) {
      return AuthContext.off(config);
    }
    JwtVerifier verifier = new JwtVerifier(config, System.getenv());
    // key files are read off the event loops; a rotated key reaches verify() at the next swap
    vertx.setPeriodic(config.keyReloadMs(), t -> vertx.executeBlocking(verifier::reloadIfChanged, false));
    return new AuthContext(config, verifier, UserLimit.of(config), new AuthStats());
  }

  /**
   * The running configuration with the live keys of {@code next}: shards added later get the settings the others
   * started with (the ingest's topics, the shared admission and history were built from those).
   */
  private static OdinConfig withSharding(OdinConfig running, OdinConfig next) {
    return new OdinConfig(next.mode(), next.shards(), next.maxConnections(), running.http(), running.ops(), running.pages(), running.ws(),
        running.kafka(), running.limits(), running.admission(), running.recovery(), running.auth(), running.drainMs(), running.reloadScanPeriodMs(),
        running.delivery());
  }

  /** The sections of {@code next} that differ from the running configuration and would need a restart. */
  private static List<String> startOnlyChanges(OdinConfig running, OdinConfig next) {
    Map<String, Boolean> same = new java.util.LinkedHashMap<>();
    same.put("http", running.http().equals(next.http()));
    same.put("ops", running.ops().equals(next.ops()));
    same.put("pages", running.pages().equals(next.pages()));
    same.put("ws", running.ws().equals(next.ws()));
    same.put("auth", running.auth().equals(next.auth()));
    same.put("kafka", running.kafka().equals(next.kafka()));
    same.put("limits", running.limits().equals(next.limits()));
    same.put("admission", running.admission().equals(next.admission()));
    same.put("recovery", running.recovery().equals(next.recovery()));
    same.put("shutdown", running.drainMs() == next.drainMs());
    same.put("reload", running.reloadScanPeriodMs() == next.reloadScanPeriodMs());
    same.put("delivery", running.delivery().equals(next.delivery()));
    return same.entrySet().stream().filter(e -> !e.getValue()).map(Map.Entry::getKey).toList();
  }

  /** Re-shards to {@code next}: new shards take new connections at once; removed shards send 1012 and their clients recover. */
  private Future<Void> applySharding(OdinConfig next) {
    OdinConfig current = config;
    if (!current.shardingDiffers(next) || state.draining()) {
      return Future.succeededFuture();
    }
    int have = shardVerticles.size();
    int want = next.shardCount();
    long t0 = System.nanoTime();
    Future<Void> change;
    if (want > have) {
      change = deployShards(want - have, next);
    } else if (want < have) {
      List<ShardVerticle> removed = shardVerticles.stream()
          .sorted(java.util.Comparator.comparingInt(ShardVerticle::id).reversed()).limit(have - want).toList();
      change = Future.all(removed.stream().map(this::retire).toList()).mapEmpty();
    } else {
      change = Future.succeededFuture();
    }
    return change.onComplete((v, err) -> {
      config = next;
      List<ShardSlot> slots = registry.slots();
      for (int i = 0; i < slots.size(); i++) {
        slots.get(i).maxConnections(next.maxConnections() / slots.size() + (i < next.maxConnections() % slots.size() ? 1 : 0));
      }
      state.reconfigured();
      LOG.info("event=resharded mode={} shards_before={} shards={} max_connections={} took_ms={}{}",
          next.mode().name().toLowerCase(), have, slots.size(), next.maxConnections(), (System.nanoTime() - t0) / 1_000_000,
          err == null ? "" : " error=\"" + err.getMessage() + "\"");
    }).recover(e -> Future.succeededFuture());
  }

  /** Takes a shard out: no new sockets, its clients closed with 1012 (reconnect and recover), then undeployed. */
  private Future<Void> retire(ShardVerticle shard) {
    shardVerticles.remove(shard);
    shard.eventLoop().execute(() -> shardCpu.untrack(Thread.currentThread()));
    return shard.drain(Disconnect.RESHARD)
        .timeout(config.drainMs() + 1_000, TimeUnit.MILLISECONDS)
        .recover(e -> Future.succeededFuture())
        .compose(v -> vertx.undeploy(shardDeployments.remove(shard)));
  }

  /**
   * Graceful shutdown, before the Vert.x instance closes: readiness goes false, the router refuses
   * new sockets with 503 "Server is shutting down", every WebSocket gets close 1001, and this
   * completes when all have closed or {@code shutdown.drainMs} has passed.
   */
  public Future<Void> drain() {
    state.startDraining();
    RouterVerticle listening = router;
    if (listening != null) { // null: stopped before the start got to the public port
      listening.draining();
    }
    long t0 = System.nanoTime();
    int open = registry.totalConnections();
    LOG.info("event=drain_started connections={} drain_ms={}", open, config.drainMs());
    List<Future<Void>> shards = shardVerticles.stream()
        .map(s -> s.drain(Disconnect.SHUTDOWN)).toList();
    return Future.all(shards).<Void>mapEmpty()
        .timeout(config.drainMs(), TimeUnit.MILLISECONDS)
        .recover(e -> Future.succeededFuture())
        .onComplete(v -> LOG.info("event=drain_finished remaining_connections={} took_ms={}",
            shardVerticles.stream().mapToInt(s -> s.slot().connections().get()).sum(),
            (System.nanoTime() - t0) / 1_000_000));
  }

  @Override
  public Future<?> stop() {
    if (retriever != null) {
      retriever.close();
    }
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

  public ServerState state() {
    return state;
  }

  public History history() {
    return history;
  }

  public KafkaReplayReader replayReader() {
    return replayReader;
  }

  /** The admission's resource guard; null before the server has started. */
  public ResourceGuard resourceGuard() {
    return admission == null ? null : admission.guard();
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

  /** The bound operations port, or -1 when off. */
  public int opsPort() {
    return ops == null ? OpsConfig.OFF : ops.port();
  }
}
