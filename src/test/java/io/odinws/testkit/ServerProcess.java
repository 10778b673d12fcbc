package io.odinws.testkit;

import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The production entry point ({@code io.odinws.cli.Main -conf FILE}) in a child JVM, so that a test can SIGKILL it
 * and start it again: the public and operations ports are fixed for the object's life (a restart keeps the URL),
 * and the configuration file the server watches can be rewritten to re-shard it live (mode and shards apply at
 * once). The base configuration reads the given broker, binds 127.0.0.1, and has admission limits and the resource
 * guard off, as {@code it/ServerHarness} does: tests open bursts of connections on a busy machine.
 *
 * <p>Each start logs to its own file in the given directory ({@code server-1.log}, {@code server-2.log}, ...).
 */
public final class ServerProcess implements AutoCloseable {

  /** Generous: a JVM start and Kafka's assignment on a machine whose cores are busy with other work. */
  public static final Duration READY_WITHIN = Duration.ofSeconds(90);

  private final Path dir;
  private final Path confFile;
  private final JsonObject base;
  private final int port;
  private final int opsPort;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private Process process;
  private int starts;

  private ServerProcess(Path dir, String bootstrap, int port, int opsPort) {
    this.dir = dir;
    this.confFile = dir.resolve("odin-ws.json");
    this.port = port;
    this.opsPort = opsPort;
    this.base = new JsonObject()
        .put("http", new JsonObject().put("host", "127.0.0.1").put("port", port))
        .put("ops", new JsonObject().put("host", "127.0.0.1").put("port", opsPort))
        .put("kafka", new JsonObject().put("bootstrap", bootstrap))
        .put("admission", new JsonObject().put("enabled", false).put("cpuRejectPercent", 100).put("heapRejectPercent", 100))
        .put("reload", new JsonObject().put("scanPeriodMs", 200));
  }

  /**
   * Writes {@code dir/odin-ws.json} (the base configuration with {@code overrides} merged over it), starts the server
   * on it and waits until it is ready.
   */
  public static ServerProcess start(Path dir, String bootstrap, JsonObject overrides) throws IOException, InterruptedException {
    Files.createDirectories(dir);
    int[] ports = FreePorts.distinct(2);
    ServerProcess server = new ServerProcess(dir, bootstrap, ports[0], ports[1]);
    server.writeConf(overrides);
    server.launch();
    return server;
  }

  public int port() {
    return port;
  }

  public int opsPort() {
    return opsPort;
  }

  public String wsUrl() {
    return "ws://127.0.0.1:" + port + "/ws";
  }

  /**
   * Replaces the configuration file (base + {@code overrides}) in one rename, so the server never reads it half
   * written; a running server applies mode and shard changes within its scan period.
   */
  public void writeConf(JsonObject overrides) throws IOException {
    Path tmp = dir.resolve("odin-ws.json.tmp");
    Files.writeString(tmp, base.copy().mergeIn(overrides, true).encodePrettily());
    Files.move(tmp, confFile, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }

  /** SIGKILL: no drain, no close frame; clients see their connections reset. */
  public void kill() throws InterruptedException {
    process.destroyForcibly();
    if (!process.waitFor(30, TimeUnit.SECONDS)) {
      throw new AssertionError("the server did not die of SIGKILL within 30 s");
    }
  }

  /** Starts the server again on the same ports and file; waits until it is ready. */
  public void restart() throws IOException, InterruptedException {
    if (process.isAlive()) {
      throw new IllegalStateException("restart of a running server: kill() it first");
    }
    launch();
  }

  /** The operations port's {@code /health} document (its {@code shards} array shows a re-shard). */
  public JsonObject health() throws IOException, InterruptedException {
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + opsPort + "/health"))
        .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    return new JsonObject(r.body());
  }

  private void launch() throws IOException, InterruptedException {
    starts++;
    Path log = dir.resolve("server-" + starts + ".log");
    String classpath = Path.of("target/classes").toAbsolutePath() + java.io.File.pathSeparator
        + Files.readString(Path.of("target/dev-classpath.txt")).strip();
    String java = ProcessHandle.current().info().command().orElse("java");
    process = new ProcessBuilder(List.of(java, "-Xmx384m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
        "-cp", classpath, "io.odinws.cli.Main", "-conf", confFile.toString()))
        .redirectErrorStream(true).redirectOutput(log.toFile()).start();
    URI ready = URI.create("http://127.0.0.1:" + port + "/health/ready");
    Await.until("the server ready, see " + log, READY_WITHIN, Duration.ofMillis(100), () -> {
      if (!process.isAlive()) {
        throw new AssertionError("the server exited with " + process.exitValue() + " before it was ready; see " + log);
      }
      return isReady(ready);
    });
  }

  private boolean isReady(URI ready) {
    try {
      return http.send(HttpRequest.newBuilder(ready).timeout(Duration.ofSeconds(5)).build(),
          HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
    } catch (IOException notYet) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted waiting for the server's readiness");
    }
  }

  /** Kills the server (no drain: the test is over). */
  @Override
  public void close() throws InterruptedException {
    if (process != null) {
      process.destroyForcibly();
      process.waitFor(30, TimeUnit.SECONDS);
    }
  }
}
