package io.odinws.testkit;

import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Assumptions;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * A Node.js script of the JavaScript SDK's tests ({@code clients/js/test/...}) as a child process that a Java test
 * talks to: every JSON line the script prints on stdout is an event (kept, and handed to an optional listener on
 * the reading thread), {@link #send} writes a command line to its stdin, its stderr and any other stdout line go to
 * the test's log. {@link #close} kills it and its children.
 *
 * <p>Without {@code node} on the PATH the test is skipped (a JUnit assumption), with the reason printed.
 */
public final class NodeScript implements AutoCloseable {

  private final String name;
  private final Process process;
  private final Writer stdin;
  private final List<JsonObject> events = new ArrayList<>(); // guarded by this
  private final Consumer<JsonObject> listener;
  private final Thread stdoutReader;

  private NodeScript(String name, Process process, Consumer<JsonObject> listener) {
    this.name = name;
    this.process = process;
    this.listener = listener;
    this.stdin = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
    this.stdoutReader = new Thread(this::readStdout, "node-" + name + "-stdout");
    this.stdoutReader.setDaemon(true);
    Thread stderrReader = new Thread(this::copyStderr, "node-" + name + "-stderr");
    stderrReader.setDaemon(true);
    stdoutReader.start();
    stderrReader.start();
  }

  /**
   * Starts {@code node script args...} in {@code clients/js} ({@code script} relative to it); {@code listener}
   * (may be null) sees each event on the reading thread, before {@link #await} does.
   */
  public static NodeScript start(String script, List<String> args, Consumer<JsonObject> listener) throws IOException {
    requireNode();
    List<String> command = new ArrayList<>(List.of("node", script));
    command.addAll(args);
    Process p = new ProcessBuilder(command).directory(ClientsBuild.SDK_DIR.toFile()).start();
    return new NodeScript(Path.of(script).getFileName().toString(), p, listener);
  }

  /** Skips the calling test when {@code node} cannot be run, saying so on stderr. */
  public static void requireNode() {
    boolean present;
    try {
      Process p = new ProcessBuilder("node", "--version").redirectErrorStream(true).start();
      p.getInputStream().readAllBytes();
      present = p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
    } catch (IOException e) {
      present = false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      present = false;
    }
    if (!present) {
      String why = "node test skipped: no node on PATH (install Node.js 20+ and npm)";
      System.err.println(why);
      Assumptions.abort(why);
    }
  }

  /** Writes one command line to the script's stdin. */
  public synchronized void send(String line) {
    try {
      stdin.write(line + "\n");
      stdin.flush();
    } catch (IOException e) {
      throw new AssertionError(name + ": cannot write '" + line + "' (exited: " + exitDescription() + ")", e);
    }
  }

  /** The events so far, in order. */
  public synchronized List<JsonObject> events() {
    return List.copyOf(events);
  }

  /** The first event matching {@code match}; fails after {@code within} or when the script exits. */
  public JsonObject await(String what, Duration within, Predicate<JsonObject> match) throws InterruptedException {
    int index = awaitIndex(what, within, 0, match);
    return events().get(index);
  }

  /** The first event at or after index {@code from} matching {@code match}; fails as {@link #awaitIndex} does. */
  public JsonObject await(String what, Duration within, int from, Predicate<JsonObject> match) throws InterruptedException {
    int index = awaitIndex(what, within, from, match);
    return events().get(index);
  }

  /**
   * The index in {@link #events} of the first event at or after {@code from} matching {@code match}; fails after
   * {@code within} or when the script exits.
   */
  public int awaitIndex(String what, Duration within, int from, Predicate<JsonObject> match) throws InterruptedException {
    long deadline = System.nanoTime() + within.toNanos();
    synchronized (this) {
      for (int i = from; ; ) {
        for (; i < events.size(); i++) {
          if (match.test(events.get(i))) {
            return i;
          }
        }
        long left = deadline - System.nanoTime();
        if (!stdoutReader.isAlive()) {
          throw new AssertionError(name + ": ended (" + exitDescription() + ") before " + what);
        }
        if (left <= 0) {
          throw new AssertionError(name + ": " + what + " did not happen within " + within);
        }
        wait(Math.max(1, Math.min(TimeUnit.NANOSECONDS.toMillis(left), 200)));
      }
    }
  }

  private String exitDescription() {
    return process.isAlive() ? "still running" : "exit " + process.exitValue();
  }

  private void readStdout() {
    try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
      for (String line = r.readLine(); line != null; line = r.readLine()) {
        JsonObject event = parse(line);
        if (event == null) {
          System.out.println(name + ": " + line);
          continue;
        }
        if (listener != null) {
          listener.accept(event);
        }
        synchronized (this) {
          events.add(event);
          notifyAll();
        }
      }
    } catch (IOException | RuntimeException e) {
      System.err.println(name + ": stdout reader stopped: " + e);
    } finally {
      synchronized (this) {
        notifyAll();
      }
    }
  }

  private static JsonObject parse(String line) {
    if (!line.startsWith("{")) {
      return null;
    }
    try {
      return new JsonObject(line);
    } catch (DecodeException notJson) {
      return null;
    }
  }

  private void copyStderr() {
    try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getErrorStream(), StandardCharsets.UTF_8))) {
      for (String line = r.readLine(); line != null; line = r.readLine()) {
        System.err.println(name + ": " + line);
      }
    } catch (IOException e) {
      // the process is gone
    }
  }

  /** Waits for the script to exit by itself (after a command that ends it); true when it did within {@code within}. */
  public boolean waitForExit(Duration within) throws InterruptedException {
    boolean exited = process.waitFor(within.toMillis(), TimeUnit.MILLISECONDS);
    if (exited) {
      stdoutReader.join(within.toMillis());
    }
    return exited;
  }

  /** Kills the script and whatever it started. */
  @Override
  public void close() throws InterruptedException {
    process.descendants().forEach(ProcessHandle::destroyForcibly);
    process.destroyForcibly();
    process.waitFor(10, TimeUnit.SECONDS);
  }
}
