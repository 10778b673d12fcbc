package io.odinws.it;

import io.odinws.OdinServer;
import io.odinws.config.ConfigLoader;
import io.odinws.ingest.IngestConsumer;
import io.odinws.router.ShardSlot;
import io.odinws.testkit.EmbeddedKafka;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonObject;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real odin-ws server in its own Vert.x instance, on a free loopback port, reading the test broker.
 *
 * <p>In a class's lifecycle, deploy it with vertx-junit5 ({@code VertxExtension} waits for the context):
 *
 * <pre>{@code
 * @BeforeAll
 * static void start(EmbeddedKafka kafka, VertxTestContext ctx) {
 *   ServerHarness.deploy(kafka, conf).onComplete(ctx.succeeding(h -> { server = h; ctx.completeNow(); }));
 * }
 * @AfterAll
 * static void stop(VertxTestContext ctx) {
 *   ServerHarness.stop(server).onComplete(ctx.succeedingThenComplete());
 * }
 * }</pre>
 *
 * <p>Inside a test, {@link #start} blocks until the server is up and {@link #close} until it is gone.
 */
final class ServerHarness implements AutoCloseable {

  /** Generous: the deploy and Kafka's assignment on a machine whose cores are busy with other work. */
  static final Duration READY_WITHIN = Duration.ofSeconds(60);

  final Vertx vertx;
  final OdinServer server;

  private ServerHarness(Vertx vertx, OdinServer server) {
    this.vertx = vertx;
    this.server = server;
  }

  /**
   * Deploys the server with {@code overrides} merged over a test base (port 0, 127.0.0.1, the broker); completes
   * once its Kafka partitions are assigned. On failure its Vert.x instance is closed.
   */
  static Future<ServerHarness> deploy(EmbeddedKafka kafka, JsonObject overrides) {
    JsonObject conf = new JsonObject()
        .put("http", new JsonObject().put("host", "127.0.0.1").put("port", 0))
        .put("ops", new JsonObject().put("host", "127.0.0.1").put("port", 0))
        .put("kafka", new JsonObject().put("bootstrap", kafka.bootstrap()))
        // Tests open bursts of connections from 127.0.0.1 on a busy 2-core machine: admission limits
        // and the resource guard are off unless a test turns them on.
        .put("admission", new JsonObject().put("enabled", false).put("cpuRejectPercent", 100).put("heapRejectPercent", 100))
        .mergeIn(overrides, true);
    // The production transport (epoll, as Main asks for): the shards' direct socket writes need it.
    Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(8).setPreferNativeTransport(true));
    if (!vertx.isNativeTransportEnabled()) {
      Throwable cause = vertx.unavailableNativeTransportCause();
      return vertx.close().transform(closed -> Future.failedFuture(new IllegalStateException("native transport unavailable", cause)));
    }
    // as Main starts it: the Kafka consumer built and assigned ahead
    OdinServer server = new OdinServer(null, IngestConsumer.ahead(ConfigLoader.resolve(conf, System.getenv()).kafka()));
    return vertx.deployVerticle(server, new DeploymentOptions().setConfig(conf))
        .compose(id -> assigned(vertx, server))
        .map(v -> new ServerHarness(vertx, server))
        .recover(e -> vertx.close().transform(closed -> Future.failedFuture(e)));
  }

  /** Completes when the server's ingest has its partitions, fails after {@link #READY_WITHIN}. */
  private static Future<Void> assigned(Vertx vertx, OdinServer server) {
    Promise<Void> assigned = Promise.promise();
    long deadline = System.nanoTime() + READY_WITHIN.toNanos();
    vertx.setPeriodic(0, 10, timer -> {
      if (server.ingest().assigned()) {
        vertx.cancelTimer(timer);
        assigned.tryComplete();
      } else if (System.nanoTime() - deadline > 0) {
        vertx.cancelTimer(timer);
        assigned.tryFail(new IllegalStateException("Kafka partitions not assigned within " + READY_WITHIN));
      }
    });
    return assigned.future();
  }

  /** {@link #deploy}, waited for: for a server started inside a test. */
  static ServerHarness start(EmbeddedKafka kafka, JsonObject overrides) throws Exception {
    return deploy(kafka, overrides).await(2 * READY_WITHIN.toSeconds(), TimeUnit.SECONDS);
  }

  /** Closes the server's Vert.x instance; nothing to do for a server that never started. */
  static Future<Void> stop(ServerHarness harness) {
    return harness == null ? Future.succeededFuture() : harness.vertx.close();
  }

  int port() {
    return server.port();
  }

  List<ShardSlot> slots() {
    return server.shards().slots();
  }

  int[] connectionsPerShard() {
    return slots().stream().mapToInt(s -> s.connections().get()).toArray();
  }

  long bytesSent() {
    return slots().stream().mapToLong(s -> s.stats().bytesSent()).sum();
  }

  long messagesSent() {
    return slots().stream().mapToLong(s -> s.stats().messagesSent()).sum();
  }

  @Override
  public void close() throws Exception {
    vertx.close().await(30, TimeUnit.SECONDS);
  }
}
