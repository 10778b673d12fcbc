package io.odinws.dev;

import io.odinws.testkit.Await;
import io.odinws.testkit.FreePorts;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.UpgradeRejectedException;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code make run}'s stack as a newcomer meets it: {@link DevStack#main} in a JVM of its own, started as the Makefile
 * starts it (broker, server and publisher in one process, no test JVM flags). From the moment its health URL answers,
 * together, for 30 s:
 * <ul>
 *   <li>a WebSocket every 100 ms: none refused (the resource guard does not take the JIT's warm-up, the broker, the
 *       publisher or a crowd of arriving clients for overload);</li>
 *   <li>the project's load generator (its own JVM, as a user runs it), 3,000 connections at 200/s from 127.0.0.1:
 *       every one connected and subscribed. This needs loopback exempt from the per-address limits
 *       ({@code admission.exemptLoopback}, on by default); without it, check the test itself with
 *       {@code -Dodin.devstack.overrides='{"admission":{"enabled":false}}'}, which the stack gets as --overrides.</li>
 * </ul>
 * Together rather than one after the other: the guard must hold while both arrive, and the suite waits once.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class DevStackTest {

  /** JSON merged over the stack's configuration, to check this test against a server without some feature. */
  private static final String OVERRIDES = "odin.devstack.overrides";
  private static final Duration FIRST_PERIOD = Duration.ofSeconds(30);
  private static final long CONNECT_EVERY_MS = 100;

  private static Path dir;
  private static int port;
  private static Process stack;

  @BeforeAll
  static void startStack() throws Exception {
    dir = Files.createTempDirectory(Path.of("target").toAbsolutePath(), "dev-stack-test-");
    Files.createDirectories(dir.resolve("target")); // DevStack keeps its broker and writes its configuration there
    port = FreePorts.consecutivePair(); // make run's public and operations ports
    List<String> cmd = new ArrayList<>(List.of(java(), "-cp", System.getProperty("java.class.path"), DevStack.class.getName(),
        "--port", String.valueOf(port), "--rate", "100"));
    String overrides = System.getProperty(OVERRIDES);
    if (overrides != null && !overrides.isBlank()) {
      cmd.addAll(List.of("--overrides", new JsonObject(overrides).encode()));
    }
    stack = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true)
        .redirectOutput(dir.resolve("stack.log").toFile()).start();
  }

  @AfterAll
  static void stopStack() throws Exception {
    if (stack != null) {
      stack.destroy(); // SIGTERM: DevStack's shutdown hook stops publisher, server and broker
      if (!stack.waitFor(60, TimeUnit.SECONDS)) {
        stack.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
      }
    }
    if (dir != null && Files.exists(dir)) {
      try (var paths = Files.walk(dir)) {
        paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  @Test
  void firstSecondsOfMakeRunRefuseNobody() throws Exception {
    awaitHealth();
    Process loadtest = startLoadTest();
    Map<String, Integer> refusals;
    int upgraded = 0;
    long attemptsDue = FIRST_PERIOD.toMillis() / CONNECT_EVERY_MS;
    Vertx vertx = Vertx.vertx();
    WebSocketClient client = vertx.createWebSocketClient(new WebSocketClientOptions().setMaxConnections(1000)
        .setConnectTimeout(30_000));
    try {
      List<Future<WebSocket>> attempts = new ArrayList<>();
      long start = System.nanoTime();
      for (int i = 0; i < attemptsDue; i++) {
        long wait = start + TimeUnit.MILLISECONDS.toNanos(i * CONNECT_EVERY_MS) - System.nanoTime();
        if (wait > 0) {
          TimeUnit.NANOSECONDS.sleep(wait); // the pace of the attempts, not an assertion
        }
        attempts.add(client.connect(new WebSocketConnectOptions().setHost("127.0.0.1").setPort(port).setURI("/ws")));
      }
      refusals = new TreeMap<>();
      for (Future<WebSocket> f : attempts) {
        try {
          f.await(60, TimeUnit.SECONDS).close();
          upgraded++;
        } catch (UpgradeRejectedException e) {
          refusals.merge(e.getStatus() + " " + e.getBody(), 1, Integer::sum);
        }
      }
    } finally {
      // Also keeps the client reachable until its connects are answered: Vert.x closes a collected client's sockets.
      client.close().await(30, TimeUnit.SECONDS);
      vertx.close().await(30, TimeUnit.SECONDS);
    }
    assertLoadTestConnectedEveryone(loadtest);
    assertEquals(Map.of(), refusals, "refused in the first " + FIRST_PERIOD.toSeconds() + " s after the health URL answered");
    assertEquals(attemptsDue, upgraded);
  }

  /** 3,000 connections at 200/s: 15 s of ramp; the rest of the duration is room for a busy machine's handshakes. */
  private static Process startLoadTest() throws IOException {
    return new ProcessBuilder(java(), "-cp", System.getProperty("java.class.path"),
        "io.odinws.tools.loadtest.LoadTest", "--url", "ws://127.0.0.1:" + port + "/ws", "--connections", "3000",
        "--ramp", "200/s", "--duration", "30", "--heartbeat", "0", "--expect-connections", "3000", "--seed", "1",
        "--report", dir.resolve("loadtest.json").toString())
        .directory(dir.toFile()).redirectErrorStream(true).redirectOutput(dir.resolve("loadtest.log").toFile()).start();
  }

  private static void assertLoadTestConnectedEveryone(Process loadtest) throws Exception {
    Path report = dir.resolve("loadtest.json");
    int status;
    try {
      assertTrue(loadtest.waitFor(150, TimeUnit.SECONDS), "the load test ends by itself");
      status = loadtest.exitValue();
    } finally {
      loadtest.destroyForcibly();
    }
    assertTrue(Files.exists(report), "no report; its log: " + Files.readString(dir.resolve("loadtest.log")));
    JsonObject r = new JsonObject(Files.readString(report));
    JsonObject c = r.getJsonObject("connections");
    String why = c.encode() + " refusals " + r.getJsonObject("refusals_by_status").encode() + " errors "
        + r.getJsonObject("errors").encode();
    assertEquals(new JsonObject(), r.getJsonObject("refusals_by_status"), why);
    assertEquals(3000L, c.getLong("opened"), why);
    assertEquals(3000L, c.getLong("subscribed"), why);
    assertEquals(3000L, r.getJsonObject("acks").getLong("subscription_ack"), why);
    assertEquals(0, status, why);
  }

  /** Waits for the stack's health URL (operations port, as make run's banner gives it) to answer 200. */
  private static void awaitHealth() {
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    HttpRequest health = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + (port + 1) + "/health"))
        .timeout(Duration.ofSeconds(10)).build();
    Await.until("the stack's health URL to answer 200", Duration.ofSeconds(180), Duration.ofMillis(50), () -> {
      assertTrue(stack.isAlive(), () -> "make run's stack ended: " + log());
      try {
        return http.send(health, HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
      } catch (IOException notYet) {
        return false; // not listening yet
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError("interrupted waiting for the stack's health URL", e);
      }
    }, DevStackTest::log);
  }

  private static String log() {
    try {
      return Files.readString(dir.resolve("stack.log"));
    } catch (IOException e) {
      return e.toString();
    }
  }

  private static String java() {
    return ProcessHandle.current().info().command().orElse(System.getProperty("java.home") + "/bin/java");
  }
}
