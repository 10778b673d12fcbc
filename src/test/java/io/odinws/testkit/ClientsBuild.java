package io.odinws.testkit;

import org.junit.jupiter.api.Assumptions;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The JavaScript SDK's build output ({@code clients/js/dist}) for the tests that run it. The Maven build normally
 * makes it before the tests; a test run without it (an IDE, {@code -Dclients.skip}, an older checkout) builds it
 * here: {@code npm ci} in {@code clients/} when its node_modules is missing or older than the lockfile, then
 * {@code npm run build -w js}. Without npm the calling test is skipped, with the reason printed.
 */
public final class ClientsBuild {

  public static final Path CLIENTS_DIR = Path.of("clients").toAbsolutePath();
  public static final Path SDK_DIR = CLIENTS_DIR.resolve("js");
  public static final Path DIST = SDK_DIR.resolve("dist");
  /** The bundle a page loads with a script tag (global {@code OdinWs}). */
  public static final Path BROWSER_BUNDLE = DIST.resolve("odin-ws.min.js");

  private static final List<Path> OUTPUTS = List.of(DIST.resolve("index.mjs"), BROWSER_BUNDLE);

  private ClientsBuild() {
  }

  /** Builds the SDK's dist unless it is there and newer than every source of the SDK. */
  public static synchronized void ensureSdkBuilt() throws IOException, InterruptedException {
    NodeScript.requireNode();
    if (upToDate()) {
      return;
    }
    requireNpm();
    Path lock = CLIENTS_DIR.resolve("package-lock.json");
    Path modules = CLIENTS_DIR.resolve("node_modules");
    if (!Files.isDirectory(modules) || Files.getLastModifiedTime(modules).compareTo(Files.getLastModifiedTime(lock)) < 0) {
      run(List.of("npm", "ci", "--no-audit", "--no-fund"));
    }
    run(List.of("npm", "run", "build", "-w", "js"));
    if (!upToDate()) {
      throw new AssertionError("npm run build -w js did not produce " + OUTPUTS);
    }
  }

  private static boolean upToDate() throws IOException {
    FileTime oldest = null;
    for (Path out : OUTPUTS) {
      if (!Files.isRegularFile(out)) {
        return false;
      }
      FileTime t = Files.getLastModifiedTime(out);
      oldest = oldest == null || t.compareTo(oldest) < 0 ? t : oldest;
    }
    FileTime newestSource = newest(SDK_DIR.resolve("src"));
    for (String f : List.of("package.json", "build.mjs")) {
      Path p = SDK_DIR.resolve(f);
      if (Files.isRegularFile(p) && Files.getLastModifiedTime(p).compareTo(newestSource) > 0) {
        newestSource = Files.getLastModifiedTime(p);
      }
    }
    return oldest.compareTo(newestSource) >= 0;
  }

  private static FileTime newest(Path dir) throws IOException {
    if (!Files.isDirectory(dir)) {
      return FileTime.fromMillis(0);
    }
    try (Stream<Path> files = Files.walk(dir)) {
      return files.filter(Files::isRegularFile).map(p -> {
        try {
          return Files.getLastModifiedTime(p);
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      }).max(FileTime::compareTo).orElse(FileTime.fromMillis(0));
    }
  }

  private static void requireNpm() throws InterruptedException {
    boolean present;
    try {
      Process p = new ProcessBuilder("npm", "--version").redirectErrorStream(true).start();
      p.getInputStream().readAllBytes();
      present = p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0;
    } catch (IOException e) {
      present = false;
    }
    if (!present) {
      String why = "node test skipped: the SDK is not built and npm is missing (install Node.js 20+ and npm)";
      System.err.println(why);
      Assumptions.abort(why);
    }
  }

  private static void run(List<String> command) throws IOException, InterruptedException {
    System.out.println("clients build: " + String.join(" ", command));
    // Through this JVM's System.out, not inherited: a forked surefire JVM's own stdout is its channel to Maven.
    Process p = new ProcessBuilder(command).directory(CLIENTS_DIR.toFile()).redirectErrorStream(true).start();
    try (BufferedReader lines = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
      lines.lines().forEach(line -> System.out.println("clients build: " + line));
    }
    if (!p.waitFor(10, TimeUnit.MINUTES)) {
      p.destroyForcibly();
      throw new AssertionError(String.join(" ", command) + " did not finish within 10 minutes");
    }
    if (p.exitValue() != 0) {
      throw new AssertionError(String.join(" ", command) + " failed with exit " + p.exitValue() + " (its output is in the test log)");
    }
  }
}
