package io.odinws.cli;

import io.odinws.OdinServer;

import io.odinws.config.ConfigException;
import io.odinws.config.ConfigLoader;
import io.odinws.config.OdinConfig;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.micrometer.MetricsDomain;
import io.vertx.micrometer.MicrometerMetricsOptions;
import io.vertx.micrometer.VertxPrometheusOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.reflect.Method;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;

/**
 * {@code java -jar odin-ws.jar [-conf file.json|'{json}']} runs the server.
 * {@code odin-ws-tools.jar publish ...} runs a tool instead; tools live outside the server's code path.
 * {@code odin-ws.jar cds-training} (with {@code -XX:ArchiveClassesAtExit}) writes the class-data
 * sharing archive that {@code bin/odin-ws} starts the server with ({@link io.odinws.cli.CdsTraining}).
 */
public final class Main {

  private static final Logger LOG = LoggerFactory.getLogger(Main.class);

  private Main() {
  }

  public static void main(String[] args) throws Exception {
    if (args.length == 1 && "cds-training".equals(args[0])) {
      io.odinws.cli.CdsTraining.run();
      System.exit(0); // the JVM writes the -XX:ArchiveClassesAtExit archive on its way out
      return;
    }
    if (args.length > 0 && !args[0].startsWith("-")) {
      runTool(args[0], Arrays.copyOfRange(args, 1, args.length));
      return;
    }
    JsonObject overrides = new JsonObject();
    for (int i = 0; i < args.length; i++) {
      if (("-conf".equals(args[i]) || "--conf".equals(args[i])) && i + 1 < args.length) {
        String conf = args[++i];
        overrides = ConfigLoader.readConfArgument(conf);
        if (!conf.strip().startsWith("{")) {
          // a file: the server watches it and applies mode and shard changes live
          overrides.put(OdinServer.CONFIG_FILE_KEY, java.nio.file.Path.of(conf).toAbsolutePath().toString());
        }
      } else if ("-h".equals(args[i]) || "--help".equals(args[i])) {
        System.out.println("usage: java -jar odin-ws.jar [-conf <file.json | inline JSON>]");
        return;
      } else {
        fail("unknown argument '" + args[i] + "'; usage: java -jar odin-ws.jar [-conf <file.json | inline JSON>]");
      }
    }
    OdinConfig config;
    try {
      config = ConfigLoader.resolve(overrides, System.getenv());
    } catch (ConfigException e) {
      fail(e.getMessage());
      return;
    }
    Vertx vertx = Vertx.vertx(vertxOptions(config));
    OdinServer server = new OdinServer();
    vertx.deployVerticle(server, new DeploymentOptions().setConfig(overrides))
        .onFailure(e -> {
          LOG.error("event=startup_failed error=\"{}\"", e.getMessage(), e);
          vertx.close().onComplete(v -> System.exit(1));
        });
    long drainMs = config.drainMs();
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      // SIGTERM or Ctrl-C: one deadline for the whole exit, shutdown.drainMs + 2 s (10 s by default):
      // drain first, then close Vert.x and the Kafka consumer in what is left. When the hook returns
      // the JVM exits, whatever is still open.
      long t0 = System.nanoTime();
      long deadline = t0 + TimeUnit.MILLISECONDS.toNanos(drainMs + 2_000);
      LOG.info("event=shutdown_started");
      try {
        if (server.configuration() != null) {
          try {
            server.drain().toCompletionStage().toCompletableFuture().get(drainMs, TimeUnit.MILLISECONDS);
          } catch (java.util.concurrent.TimeoutException late) {
            LOG.warn("event=drain_incomplete action=\"closing the remaining connections\"");
          }
        }
        long left = Math.max(TimeUnit.MILLISECONDS.toNanos(200), deadline - System.nanoTime());
        vertx.close().toCompletionStage().toCompletableFuture().get(left, TimeUnit.NANOSECONDS);
        LOG.info("event=shutdown_finished took_ms={}", (System.nanoTime() - t0) / 1_000_000);
      } catch (Exception e) {
        LOG.warn("event=shutdown_incomplete took_ms={} error=\"{}\"", (System.nanoTime() - t0) / 1_000_000, e.toString());
      }
    }, "odin-shutdown"));
  }

  /** Event loops: at least one per shard plus room for the router and the main verticle. */
  public static VertxOptions vertxOptions(OdinConfig config) {
    int cores = Runtime.getRuntime().availableProcessors();
    return new VertxOptions()
        .setEventLoopPoolSize(Math.max(2 * cores, config.shardCount() + 2))
        .setPreferNativeTransport(true)
        .setMetricsOptions(new MicrometerMetricsOptions()
            .setEnabled(true)
            .setJvmMetricsEnabled(true)
            // EventBus metrics cost 1-2 µs per delivery and say nothing the server's own metrics don't.
            .addDisabledMetricsCategory(MetricsDomain.EVENT_BUS)
            .setPrometheusOptions(new VertxPrometheusOptions().setEnabled(true)));
  }

  private static void runTool(String tool, String[] args) throws Exception {
    String mainClass = switch (tool) {
      case "publish" -> "io.odinws.tools.publish.DemoPublisher";
      case "loadtest" -> "io.odinws.tools.loadtest.LoadTest";
      default -> null;
    };
    if (mainClass == null) {
      fail("unknown command '" + tool + "'; commands: publish, loadtest, cds-training (run the server with no command)");
      return;
    }
    Class<?> c;
    try {
      c = Class.forName(mainClass);
    } catch (ClassNotFoundException e) {
      fail("'" + tool + "' is in odin-ws-tools.jar, not in the server jar: java -jar target/odin-ws-tools.jar " + tool + " ...");
      return;
    }
    Method main = c.getMethod("main", String[].class);
    main.invoke(null, (Object) args);
  }

  private static void fail(String message) {
    System.err.println("odin-ws: " + message);
    System.exit(2);
  }
}
