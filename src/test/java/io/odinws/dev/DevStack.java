package io.odinws.dev;

import io.odinws.cli.Main;
import io.odinws.OdinServer;
import io.odinws.config.ConfigLoader;
import io.odinws.config.OdinConfig;
import io.odinws.testkit.EmbeddedKafka;
import io.odinws.testkit.OdinTopics;
import io.odinws.tools.publish.DemoPublisher;
import io.odinws.tools.publish.PublisherOptions;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * {@code make run}: the whole system in one JVM on this machine: a real Kafka broker (KRaft, data
 * under target/dev-kafka), the 8 Odin topics, the server in multi mode and the demo publisher.
 * Ctrl-C (or SIGTERM) stops all of it. With {@code --no-server} (for {@code make dev}) it runs only
 * the broker and the publisher, and writes the server's configuration to target/dev-conf.json.
 *
 * <p>Lives on the test class path: the broker never enters the production jar.
 */
public final class DevStack {

  private DevStack() {
  }

  public static void main(String[] args) throws Exception {
    int port = 8080;
    int rate = PublisherOptions.DEFAULT_RATE;
    boolean withServer = true;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--port" -> port = Integer.parseInt(args[++i]);
        case "--rate" -> rate = Integer.parseInt(args[++i]);
        case "--no-server" -> withServer = false;
        default -> {
          System.err.println("usage: DevStack [--port 8080] [--rate 100] [--no-server]");
          System.exit(2);
        }
      }
    }
    Path data = Path.of("target", "dev-kafka");
    if (Files.exists(data)) {
      deleteTree(data); // a fresh broker each run: stale topics and offsets only confuse a demo
    }
    EmbeddedKafka kafka = EmbeddedKafka.start(data);
    OdinTopics.createAll(kafka);
    JsonObject conf = new JsonObject()
        .put("mode", "multi")
        .put("http", new JsonObject().put("host", "0.0.0.0").put("port", port))
        .put("ops", new JsonObject().put("port", port + 1))
        .put("kafka", new JsonObject().put("bootstrap", kafka.bootstrap()));
    Files.writeString(Path.of("target", "dev-conf.json"), conf.encodePrettily());

    Vertx vertx = null;
    if (withServer) {
      OdinConfig config = ConfigLoader.resolve(conf, Map.of());
      vertx = Vertx.vertx(Main.vertxOptions(config));
      vertx.deployVerticle(new OdinServer(), new DeploymentOptions().setConfig(conf)).await(30, TimeUnit.SECONDS);
    }
    DemoPublisher publisher = DemoPublisher.start(
        PublisherOptions.parse(new String[] {"--bootstrap", kafka.bootstrap(), "--rate", String.valueOf(rate)}));

    CountDownLatch stopped = new CountDownLatch(1);
    Vertx server = vertx;
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      System.out.println("\nodin-ws dev stack: stopping publisher, server and broker...");
      publisher.close();
      if (server != null) {
        try {
          server.close().await(10, TimeUnit.SECONDS);
        } catch (Exception e) {
          System.err.println("server did not stop cleanly: " + e);
        }
      }
      kafka.close();
      stopped.countDown();
      System.out.println("odin-ws dev stack: stopped.");
    }, "dev-stack-shutdown"));

    String banner = withServer ? """

        ==================================================================================
         odin-ws is running (multi mode, %d shards) with a real Kafka broker and a demo
         publisher at %d events/s.

           WebSocket   ws://127.0.0.1:%d/ws
           Health      http://127.0.0.1:%d/health    (also on the public port)
           Metrics     http://127.0.0.1:%d/metrics
           Kafka       %s   (topics: odin.trades, odin.liquidity, ... 12 partitions each)

         Try it:
           npx wscat -c ws://127.0.0.1:%d/ws
           > {"type":"subscribe","data":{"channels":["BTC.trade","ETH.trade"]}}

         Ctrl-C stops everything.
        ==================================================================================
        """.formatted(Runtime.getRuntime().availableProcessors(), rate, port, port + 1, port + 1, kafka.bootstrap(), port)
        : """

        ==================================================================================
         Dev broker %s with the demo publisher at %d events/s.
         Server configuration written to target/dev-conf.json.
        ==================================================================================
        """.formatted(kafka.bootstrap(), rate);
    System.out.println(banner);
    stopped.await();
  }

  private static void deleteTree(Path root) throws java.io.IOException {
    try (var paths = Files.walk(root)) {
      paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }
}
