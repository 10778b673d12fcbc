package io.odinws.testkit;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Keeps N cores busy for a bounded time, then stops by itself: a busy machine to run the suite on, because a
 * suite that only passes on an idle machine fails in CI for correct changes.
 *
 * <p>Both cores at full load while the suite runs, bounded in case the suite outlives it (the {@code kill} ends it
 * with the suite):
 *
 * <pre>{@code
 * make build
 * java -cp target/test-classes io.odinws.testkit.CpuBurner --threads 2 --seconds 900 & burner=$!
 * make test; kill $burner
 * }</pre>
 *
 * <p>Options: {@code --threads N} (default: the number of available processors), {@code --seconds S} (default 600;
 * required to be positive, so a forgotten burner never outlives its bound). Each thread spins on arithmetic the JIT
 * cannot remove and checks the clock between short rounds, so it stops within a fraction of a second of the bound.
 */
public final class CpuBurner {

  private static final long MAX_SECONDS = TimeUnit.DAYS.toSeconds(1);

  private CpuBurner() {
  }

  public static void main(String[] args) throws InterruptedException {
    int threads = Runtime.getRuntime().availableProcessors();
    long seconds = 600;
    for (int i = 0; i < args.length; i++) {
      String arg = args[i];
      if (arg.equals("--help") || arg.equals("-h")) {
        System.out.println("Usage: CpuBurner [--threads N] [--seconds S]");
        return;
      }
      if (i + 1 >= args.length) {
        fail(arg + " needs a value");
      }
      String value = args[++i];
      switch (arg) {
        case "--threads" -> threads = (int) number(arg, value, 1, 1024);
        case "--seconds" -> seconds = number(arg, value, 1, MAX_SECONDS);
        default -> fail("unknown option " + arg + "; accepted: --threads, --seconds, --help");
      }
    }
    System.out.println("CpuBurner: " + threads + " threads for at most " + seconds + " s");
    long spins = burn(threads, TimeUnit.SECONDS.toNanos(seconds));
    System.out.println("CpuBurner: done (" + spins + " rounds)");
  }

  /** Spins {@code threads} threads until {@code nanos} have passed; returns the rounds done (so the work is used). */
  static long burn(int threads, long nanos) throws InterruptedException {
    long deadline = System.nanoTime() + nanos;
    long[] rounds = new long[threads];
    List<Thread> workers = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      int slot = t;
      Thread w = new Thread(() -> rounds[slot] = spin(deadline), "cpu-burner-" + t);
      w.setDaemon(true); // never what keeps a JVM alive
      w.start();
      workers.add(w);
    }
    long total = 0;
    for (int t = 0; t < threads; t++) {
      workers.get(t).join();
      total += rounds[t];
    }
    return total;
  }

  private static long spin(long deadline) {
    long x = System.nanoTime();
    long rounds = 0;
    while (System.nanoTime() - deadline < 0) {
      for (int k = 0; k < 100_000; k++) { // xorshift: cheap, and its result is kept
        x ^= x << 13;
        x ^= x >>> 7;
        x ^= x << 17;
      }
      rounds++;
    }
    return x == 42 ? rounds + 1 : rounds; // depends on x, so the loop is not dead code
  }

  private static long number(String option, String value, long min, long max) {
    try {
      long n = Long.parseLong(value.trim());
      if (n >= min && n <= max) {
        return n;
      }
    } catch (NumberFormatException e) {
      // reported below with the accepted range
    }
    fail(option + " must be " + min + ".." + max + ", got '" + value + "'");
    return 0;
  }

  private static void fail(String message) {
    System.err.println("CpuBurner: " + message);
    System.exit(2);
  }
}
