package io.odinws.tools.loadtest;

import java.time.Clock;
import java.time.Instant;

/**
 * Wall-clock microseconds, the clock the server's {@code ts} and the producer's {@code timestamp} (both
 * Unix milliseconds) are compared with. {@code Clock.systemUTC()} reads the OS real-time clock at
 * microsecond resolution on Linux; the Instant it returns is short-lived (usually scalar-replaced).
 * Derived from the real-time clock on every call rather than from nanoTime plus an anchor, so a
 * late-scheduled anchoring thread cannot shift all latencies (which would show as negative samples).
 */
final class MicroClock {
    private static final Clock UTC = Clock.systemUTC();

    private MicroClock() {
    }

    static long nowMicros() {
        Instant i = UTC.instant();
        return i.getEpochSecond() * 1_000_000L + i.getNano() / 1000;
    }
}
