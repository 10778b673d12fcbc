package io.odinws.testkit;

import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class CpuBurnerTest {

  @Test
  void stopsByItselfAtItsBound() {
    // the bound is what matters: a burner left behind would slow every later test
    assertTimeoutPreemptively(Duration.ofSeconds(30), () -> CpuBurner.burn(2, TimeUnit.MILLISECONDS.toNanos(200)));
  }
}
