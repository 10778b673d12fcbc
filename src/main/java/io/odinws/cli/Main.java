package io.odinws.cli;

import io.odinws.OdinServer;

import io.odinws.config.ConfigException;
import io.odinws.config.ConfigLoader;
import io.odinws.config.OdinConfig;
import io.odinws.ingest.IngestConsumer;
import io.odinws.ops.JvmMeters;
import io.odinws.router.PreboundPort;
import io.odinws.router.RouterVerticle;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.micrometer.MetricsDomain;
import io.vertx.micrometer.MicrometerMetricsOptions;
import io.vertx.micrometer.VertxPrometheusOptions;
import io.vertx.micrometer.backends.BackendRegistries;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * {@code java -jar odin-ws.jar [-conf file.json|'{json}']} runs the server.
 * {@code odin-ws-tools.jar publish ...} runs a tool instead; tools live outside the server's code path.
 * {@code odin-ws.jar cds-training} (with {@code -XX:ArchiveClassesAtExit}) writes the class-data
 * sharing archive that {@code bin/odin-ws} starts the server with ({@link io.odinws.cli.CdsTraining}).
 */
@Command(name = "odin-ws", sortOptions = false,
    description = "WebSocket fan-out server: Kafka market events to WebSocket clients. With no command, runs the server.",
    footer = {"", "Environment variables (KAFKA_BROKERS, WS_MODE, NUM_SHARDS, ...) override the configuration (README, \"Configuration\")."})
public final class Main implements Callable<Integer> {

  private static final Logger LOG = LoggerFactory.getLogger(Main.class);

  /**
   * The tools' commands, by class name: they are in odin-ws-tools.jar only, and no server package
   * may depend on them.
   */
  static final List<Tool> TOOLS = List.of(
      new Tool("publish", "io.odinws.tools.publish.PublishCommand"),
      new Tool("loadtest", "io.odinws.tools.loadtest.LoadTestCommand"),
      new Tool("hostile", "io.odinws.tools.hostile.HostileCommand"),
      new Tool("token", "io.odinws.tools.token.TokenCommand"));

  /** A tool's command: its name and the class of its picocli command. */
  record Tool(String name, String className) {
  }

  @Option(names = {"-conf", "--conf"}, paramLabel = "FILE.json|JSON",
      description = "configuration: a JSON file (watched: mode and shard changes apply live) or inline JSON"
          + " (default: the built-in defaults)")
  private String conf;

  @Option(names = {"-h", "--help"}, usageHelp = true, description = "print this help")
  private boolean help;

  @Spec
  private CommandLine.Model.CommandSpec spec;

  public static void main(String[] args) {
    String conf = plainServerConf(args);
    if (conf != null) {
      // The server's own command line skips picocli: its classes are Java 5 bytecode, which the class-data sharing
      // archive cannot hold, so building its command model would load and verify them from the jar at every start.
      int code = runServer(conf.isEmpty() ? null : conf, new PrintWriter(System.err, true), CommandLine.ExitCode.USAGE);
      if (code != 0) {
        System.exit(code);
      }
      return;
    }
    CommandLine cl = commandLine();
    int code = cl.execute(args);
    // The server keeps running on Vert.x's threads; a command (a tool, cds-training) ends the JVM,
    // which also writes the -XX:ArchiveClassesAtExit archive of cds-training on its way out.
    if (code != 0 || (cl.getParseResult() != null && cl.getParseResult().hasSubcommand())) {
      System.exit(code);
    }
  }

  /**
   * The {@code -conf} value when {@code args} only start the server ({@code -conf X}, {@code --conf X}, {@code -conf=X},
   * {@code --conf=X}; "" for no arguments), or null when picocli is to parse them (a command, help, anything else,
   * including every usage error, which picocli words).
   */
  static String plainServerConf(String[] args) {
    if (args.length == 0) {
      return "";
    }
    String value = null;
    if (args.length == 2 && (args[0].equals("-conf") || args[0].equals("--conf"))) {
      value = args[1];
    } else if (args.length == 1 && (args[0].startsWith("-conf=") || args[0].startsWith("--conf="))) {
      value = args[0].substring(args[0].indexOf('=') + 1);
    }
    return value == null || value.isEmpty() || value.startsWith("-") ? null : value;
  }

  /** The server's command line with its commands: the tools' where their classes are present. */
  static CommandLine commandLine() {
    return commandLine(TOOLS);
  }

  static CommandLine commandLine(List<Tool> tools) {
    CommandLine cl = new CommandLine(new Main());
    cl.addSubcommand("cds-training", new CdsTrainingCommand());
    for (Tool tool : tools) {
      Object command;
      try {
        command = Class.forName(tool.className());
      } catch (ClassNotFoundException e) {
        command = new MissingTool(tool.name());
      }
      cl.addSubcommand(tool.name(), command);
    }
    return withConventions(cl); // after the commands: picocli applies the settings to those present
  }

  /**
   * A command line with the conventions of every odin-ws command: a usage error is one line naming
   * the command ({@code odin-ws loadtest: ...}) and where the options are listed, exit status 2; the
   * last of a repeated option wins; no {@code @file} expansion.
   */
  public static CommandLine commandLine(Object command) {
    return withConventions(new CommandLine(command));
  }

  private static CommandLine withConventions(CommandLine cl) {
    return cl
        .setOverwrittenOptionsAllowed(true)
        .setExpandAtFiles(false)
        .setParameterExceptionHandler((e, args) -> {
          CommandLine at = e.getCommandLine();
          String name = at.getCommandSpec().qualifiedName();
          PrintWriter err = at.getErr();
          err.println(name + ": " + e.getMessage());
          CommandLine.UnmatchedArgumentException.printSuggestions(e, err);
          err.println("(" + name + " --help lists the options)");
          return at.getCommandSpec().exitCodeOnInvalidInput();
        });
  }

  /** Starts the server; returns once it is deploying (Vert.x's threads keep the JVM running). */
  @Override
  public Integer call() {
    return runServer(conf, spec.commandLine().getErr(), spec.exitCodeOnInvalidInput());
  }

  /**
   * Starts the server with the {@code -conf} value (null for none); returns 0 once it is deploying, or the exit status
   * of a start that failed before: {@code invalidInput} for a configuration error, 1 for a port that cannot be bound.
   */
  static int runServer(String conf, PrintWriter err, int invalidInput) {
    JsonObject overrides = new JsonObject();
    OdinConfig config;
    try {
      if (conf != null) {
        overrides = ConfigLoader.readConfArgument(conf);
        if (!conf.strip().startsWith("{")) {
          // a file: the server watches it and applies mode and shard changes live
          overrides.put(OdinServer.CONFIG_FILE_KEY, Path.of(conf).toAbsolutePath().toString());
        }
      }
      config = ConfigLoader.resolve(overrides, System.getenv());
    } catch (ConfigException e) {
      err.println("odin-ws: " + e.getMessage());
      return invalidInput;
    }
    // The public port first, before Vert.x and the shards start: a client connecting meanwhile (reconnecting to a
    // restarted server) waits in the accept queue and is served when the router starts, instead of being refused.
    PreboundPort port;
    try {
      port = PreboundPort.bind(config.http());
    } catch (IOException e) {
      String why = RouterVerticle.cannotListen(config.http(), e);
      LOG.error("event=startup_failed error=\"{}\"", why);
      err.println("odin-ws: " + why);
      return 1;
    }
    // The Kafka consumer's construction and first assignment, which need neither Vert.x nor the shards, on a thread of
    // its own meanwhile.
    IngestConsumer consumer = IngestConsumer.ahead(config.kafka());
    Vertx vertx = Vertx.vertx(vertxOptions(config));
    OdinServer server = new OdinServer(port, consumer);
    AtomicBoolean stopping = new AtomicBoolean();
    vertx.deployVerticle(server, new DeploymentOptions().setConfig(overrides))
        .onSuccess(id -> JvmMeters.bindLater(vertx, BackendRegistries.getDefaultNow()))
        .onFailure(e -> {
          if (stopping.get()) {
            // a SIGTERM during the start: Vert.x's close undeployed what was starting; the shutdown hook ends the rest
            LOG.info("event=startup_abandoned why=\"shutdown began during the start\"");
            return;
          }
          LOG.error("event=startup_failed error=\"{}\"", e.getMessage(), e);
          // System.exit waits for the shutdown hook, which waits for Vert.x's loops: not from one of them
          vertx.close().onComplete(v -> new Thread(() -> System.exit(1), "odin-exit").start());
        });
    long drainMs = config.drainMs();
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      // SIGTERM or Ctrl-C: one deadline for the whole exit, shutdown.drainMs + 2 s (10 s by default):
      // drain first, then close Vert.x and the Kafka consumer in what is left. When the hook returns
      // the JVM exits, whatever is still open.
      stopping.set(true);
      server.abandonStart();
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
    return 0;
  }

  /** Event loops: one per shard plus one each for the main verticle, the operations verticle and the router. */
  public static VertxOptions vertxOptions(OdinConfig config) {
    int cores = Runtime.getRuntime().availableProcessors();
    return new VertxOptions()
        .setEventLoopPoolSize(Math.max(2 * cores, config.shardCount() + 3))
        .setPreferNativeTransport(true)
        .setMetricsOptions(new MicrometerMetricsOptions()
            .setEnabled(true)
            // the JVM's meters are bound once the server has started (JvmMeters), off a start's critical path
            .setJvmMetricsEnabled(false)
            // EventBus metrics cost 1-2 µs per delivery and say nothing the server's own metrics don't.
            .addDisabledMetricsCategory(MetricsDomain.EVENT_BUS)
            // The public port is the router's own Netty bootstrap; Vert.x's HTTP servers (the operations port's) would
            // only count probes and scrapes, and their gauges were registered twice (a Micrometer warning at every start).
            .addDisabledMetricsCategory(MetricsDomain.HTTP_SERVER)
            .setPrometheusOptions(new VertxPrometheusOptions().setEnabled(true)));
  }

  @Command(name = "cds-training",
      description = "Start the server against an empty Kafka broker of its own, serve one client, stop: run with"
          + " -XX:ArchiveClassesAtExit to write the class-data sharing archive.")
  static final class CdsTrainingCommand implements Callable<Integer> {
    @Option(names = {"-h", "--help"}, usageHelp = true, description = "print this help")
    private boolean help;

    @Override
    public Integer call() throws Exception {
      CdsTraining.run();
      return 0;
    }
  }

  /** A tool's command in the server jar, which leaves the tools out: says where the tool is. */
  @Command(description = "in odin-ws-tools.jar only")
  static final class MissingTool implements Callable<Integer> {
    private final String name;

    @CommandLine.Unmatched
    private List<String> args;

    @Spec
    private CommandLine.Model.CommandSpec spec;

    MissingTool(String name) {
      this.name = name;
    }

    @Override
    public Integer call() {
      spec.commandLine().getErr().println("odin-ws: '" + name + "' is in odin-ws-tools.jar, not in the server jar: java -jar "
          + "target/odin-ws-tools.jar " + name + " ...");
      return spec.exitCodeOnInvalidInput();
    }
  }
}
