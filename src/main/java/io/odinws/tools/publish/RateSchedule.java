package io.odinws.tools.publish;

/**
 * Open-loop due-time arithmetic for a constant rate: event {@code i} (from 0) is due at
 * {@code start + floor(i * 1e9 / rate)} nanoseconds. Pure and exact (integer arithmetic, no drift, no
 * overflow for centuries at 100k/s), so the publisher's timing can be tested without time passing.
 * A caller that wakes late sees every missed event as due and sends them as a burst.
 */
public record RateSchedule(long startNanos, int ratePerSecond) {
    private static final long NANOS = 1_000_000_000L;

    public RateSchedule {
        if (ratePerSecond < 1) throw new IllegalArgumentException("ratePerSecond must be >= 1, got " + ratePerSecond);
    }

    /** When event {@code index} is due, in {@link System#nanoTime()} terms. */
    public long dueTimeNanos(long index) {
        if (index < 0) throw new IllegalArgumentException("index must be >= 0, got " + index);
        // i*1e9/rate split as whole seconds plus remainder so i*1e9 never overflows.
        return startNanos + (index / ratePerSecond) * NANOS + (index % ratePerSecond) * NANOS / ratePerSecond;
    }

    /**
     * How many events are due at {@code nowNanos}: the count of indexes whose due time is {@code <= nowNanos}
     * (0 before the start, 1 exactly at the start).
     */
    public long dueCount(long nowNanos) {
        long elapsed = nowNanos - startNanos; // subtraction, so it is safe across nanoTime wrap-around
        if (elapsed < 0) return 0;
        // floor(i*1e9/rate) <= e  <=>  i < (e+1)*rate/1e9, so count = ceil((e+1)*rate/1e9); split again.
        long e1 = elapsed + 1;
        long wholeSeconds = e1 / NANOS;
        long rest = e1 % NANOS;
        return wholeSeconds * ratePerSecond + (rest * ratePerSecond + NANOS - 1) / NANOS;
    }
}
