package io.odinws.testkit;

import org.junit.jupiter.api.Assumptions;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Debian's Chromium for the browser tests (driven by puppeteer-core, which downloads no browser). {@code
 * .ci/test-tools} installs it where apt-get exists; elsewhere, without it, browser tests are skipped with the
 * reason printed.
 */
public final class Chromium {

  private static final List<String> NAMES = List.of("chromium", "chromium-browser");

  private Chromium() {
  }

  /** The browser's executable: /usr/bin first, then the PATH; skips the calling test when there is none. */
  public static Path executable() {
    for (String name : NAMES) {
      Path standard = Path.of("/usr/bin", name);
      if (Files.isExecutable(standard)) {
        return standard;
      }
    }
    String path = System.getenv("PATH");
    if (path != null) {
      for (String dir : path.split(java.io.File.pathSeparator)) {
        for (String name : NAMES) {
          Path candidate = Path.of(dir, name);
          if (!dir.isEmpty() && Files.isExecutable(candidate)) {
            return candidate;
          }
        }
      }
    }
    String why = "browser test skipped: no Chromium (apt-get install chromium)";
    System.err.println(why);
    Assumptions.abort(why);
    throw new AssertionError("unreachable");
  }
}
