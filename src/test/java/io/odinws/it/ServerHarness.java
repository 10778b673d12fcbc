package io.odinws.it;

import io.odinws.OdinServer;
import io.odinws.router.ShardSlot;
import io.odinws.testkit.Await;
import io.odinws.testkit.EmbeddedKafka;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonObject;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** A real odin-ws server in its own Vert.x instance, on a free loopback port, reading the test broker. */
final class ServerHarness implements AutoCloseable {

  final Vertx vertx;
  final OdinServer server;

  private ServerHarness(Vertx vertx, OdinServer server) {
    this.vertx = vertx;
    this.server = server;
  }

  /** Starts with {@code overrides} merged over a test base (port 0, 127.0.0.1, the broker) and waits for Kafka assignment. */
  static ServerHarness start(EmbeddedKafka kafka, JsonObject overrides) throws Exception {
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
      vertx.close();
      throw new IllegalStateException("native transport unavailable: " + vertx.unavailableNativeTransportCause());
    }
    OdinServer server = new OdinServer();
    try {
      vertx.deployVerticle(server, new DeploymentOptions().setConfig(conf)).await(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      vertx.close();
      throw e;
    }
    ServerHarness h = new ServerHarness(vertx, server);
    Await.until("Kafka partitions assigned", Duration.ofSeconds(30), () -> server.ingest().assigned());
    return h;
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

  long messagesSent() {
    return slots().stream().mapToLong(s -> s.stats().messagesSent()).sum();
  }

  @Override
  public void close() throws Exception {
    vertx.close().await(20, TimeUnit.SECONDS);
  }
}
