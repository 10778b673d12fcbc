package io.odinws.dev;

import io.odinws.cli.Main;
import io.odinws.OdinServer;
import io.odinws.config.ConfigLoader;
import io.odinws.config.OdinConfig;
import io.odinws.testkit.EmbeddedKafka;
import io.odinws.testkit.OdinTopics;
import io.odinws.tools.Commands;
import io.odinws.tools.publish.DemoPublisher;
import io.odinws.tools.publish.PublisherOptions;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

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
 * <p>{@link #start} runs the same stack for a test ({@link #close} stops it), so that what {@code make run}
 * gives a newcomer is tested as it is.
 *
 * <p>Lives on the test class path: the broker never enters the production jar.
 */
public final class DevStack implements AutoCloseable {

  private final EmbeddedKafka kafka;
  private final Vertx vertx;
  private final OdinServer server;
  private final DemoPublisher publisher;
  private final JsonObject conf;

  private DevStack(EmbeddedKafka kafka, Vertx vertx, OdinServer server, DemoPublisher publisher, JsonObject conf) {
    this.kafka = kafka;
    this.vertx = vertx;
    this.server = server;
    this.publisher = publisher;
    this.conf = conf;
  }

  @Command(name = "DevStack", description = "The broker, the topics, the server and the demo publisher in one JVM (make run).")
  private static final class Options {
    @Option(names = "--port", paramLabel = "N", description = "WebSocket port; the operations port is the next one (default ${DEFAULT-VALUE})")
    int port = 8080;

    @Option(names = "--rate", paramLabel = "N", description = "the demo publisher's events per second (default ${DEFAULT-VALUE})")
    int rate = PublisherOptions.DEFAULT_RATE;

    @Option(names = "--overrides", paramLabel = "JSON", description = "JSON merged over the server's configuration, e.g. '{\"admission\":{\"enabled\":false}}'")
    String overrides;

    @Option(names = "--no-server", description = "only the broker and the publisher; the server's configuration goes to target/dev-conf.json (make dev)")
    boolean noServer;

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "print this help")
    boolean help;
  }

  /**
   * Starts {@code make run}'s stack: a fresh broker in {@code data} (deleted first if present), the topics, the
   * server with {@code make run}'s configuration ({@code overrides} merged over it; null: none) unless
   * {@code withServer} is false, then the demo publisher. Returns once all of it runs.
   *
   * @param port    public port; the operations port is {@code opsPort}
   */
  public static DevStack start(Path data, int port, int opsPort, int rate, boolean withServer, JsonObject overrides) throws Exception {
    if (Files.exists(data)) {
      deleteTree(data); // a fresh broker each run: stale topics and offsets only confuse a demo
    }
    EmbeddedKafka kafka = EmbeddedKafka.start(data);
    Vertx vertx = null;
    try {
      OdinTopics.createAll(kafka);
      JsonObject conf = new JsonObject()
          .put("mode", "multi")
          .put("http", new JsonObject().put("host", "0.0.0.0").put("port", port))
          .put("ops", new JsonObject().put("port", opsPort))
          .put("kafka", new JsonObject().put("bootstrap", kafka.bootstrap()))
          // permessage-deflate on, whatever the production default: the browser pages negotiate it
          .put("ws", new JsonObject().put("compression", new JsonObject().put("enabled", true)));
      if (overrides != null) {
        conf.mergeIn(overrides, true);
      }
      OdinServer server = null;
      if (withServer) {
        OdinConfig config = ConfigLoader.resolve(conf, Map.of());
        vertx = Vertx.vertx(Main.vertxOptions(config));
        server = new OdinServer();
        vertx.deployVerticle(server, new DeploymentOptions().setConfig(conf)).await(30, TimeUnit.SECONDS);
      }
      DemoPublisher publisher = DemoPublisher.start(
          PublisherOptions.parse(new String[] {"--bootstrap", kafka.bootstrap(), "--rate", String.valueOf(rate)}));
      return new DevStack(kafka, vertx, server, publisher, conf);
    } catch (Exception | Error e) {
      if (vertx != null) {
        vertx.close().await(10, TimeUnit.SECONDS);
      }
      kafka.close();
      throw e;
    }
  }

  /** The bound public port (-1 without a server). */
  public int port() {
    return server == null ? -1 : server.port();
  }

  /** The bound operations port (-1 without a server). */
  public int opsPort() {
    return server == null ? -1 : server.opsPort();
  }

  public String bootstrap() {
    return kafka.bootstrap();
  }

  /** The server's configuration as given (before defaults). */
  public JsonObject configuration() {
    return conf.copy();
  }

  /** Stops the publisher, the server and the broker, in that order. */
  @Override
  public void close() {
    publisher.close();
    if (vertx != null) {
      try {
        vertx.close().await(10, TimeUnit.SECONDS);
      } catch (Exception e) {
        System.err.println("server did not stop cleanly: " + e);
      }
    }
    kafka.close();
  }

  public static void main(String[] args) throws Exception {
    Options options = new Options();
    try {
      if (!Commands.parse(options, args)) {
        return; // --help
      }
    } catch (IllegalArgumentException e) {
      System.err.println("DevStack: " + e.getMessage());
      System.exit(2);
    }
    int port = options.port;
    int rate = options.rate;
    boolean withServer = !options.noServer;
    JsonObject overrides = options.overrides == null || options.overrides.isBlank() ? null : new JsonObject(options.overrides);
    DevStack stack = start(Path.of("target", "dev-kafka"), port, port + 1, rate, withServer, overrides);
    Files.writeString(Path.of("target", "dev-conf.json"), stack.conf.encodePrettily());

    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      System.out.println("\nodin-ws dev stack: stopping publisher, server and broker...");
      stack.close();
      stopped.countDown();
      System.out.println("odin-ws dev stack: stopped.");
    }, "dev-stack-shutdown"));
    EmbeddedKafka kafka = stack.kafka;

    boolean pagesBuilt = DevStack.class.getClassLoader().getResource("webroot/market/index.html") != null;
    String banner = withServer ? """

        ==================================================================================
           Market      http://127.0.0.1:%d/market/%s
           Operator    http://127.0.0.1:%d/operator/

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
        """.formatted(stack.opsPort(), pagesBuilt ? "" : "   (pages not built: install Node 20+ and npm, then make build)",
            stack.opsPort(), Runtime.getRuntime().availableProcessors(), rate, port, port + 1, port + 1, kafka.bootstrap(), port)
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
