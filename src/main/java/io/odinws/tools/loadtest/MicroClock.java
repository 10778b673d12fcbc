package io.odinws.tools.loadtest;

/**
 * Wall-clock microseconds without allocating: an anchor of (currentTimeMillis, nanoTime) plus elapsed
 * nanoTime. {@link #reanchor()} (called every second by the control loop) bounds the drift against
 * the wall clock, which the server's {@code ts} and the producer's {@code timestamp} come from.
 */
final class MicroClock {
    private record Anchor(long wallMicros, long nanos) {}

    private static volatile Anchor anchor = fresh();

    private MicroClock() {
    }

    static long nowMicros() {
        Anchor a = anchor;
        return a.wallMicros + (System.nanoTime() - a.nanos) / 1000;
    }

    static void reanchor() {
        anchor = fresh();
    }

    private static Anchor fresh() {
        // Wait for the millisecond to tick so the anchor is accurate to microseconds, not to a whole ms.
        long m0 = System.currentTimeMillis();
        long deadline = System.nanoTime() + 2_000_000;
        long m;
        do {
            m = System.currentTimeMillis();
        } while (m == m0 && System.nanoTime() < deadline);
        return new Anchor(m * 1000, System.nanoTime());
    }
}
