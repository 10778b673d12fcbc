package io.odinws.tools.publish;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class RateScheduleTest {
    private static final long S = 1_000_000_000L;

    @Test
    void firstEventIsDueAtTheStartAndNoneBefore() {
        RateSchedule r = new RateSchedule(5_000, 100);
        assertEquals(0, r.dueCount(4_999));
        assertEquals(1, r.dueCount(5_000));
        assertEquals(5_000, r.dueTimeNanos(0));
    }

    @Test
    void dueTimesAreEvenlySpacedWithExactRounding() {
        RateSchedule r = new RateSchedule(1_000, 3); // 333,333,333.3 ns apart
        assertEquals(1_000 + 333_333_333, r.dueTimeNanos(1));
        assertEquals(1_000 + 666_666_666, r.dueTimeNanos(2));
        assertEquals(1_000 + S, r.dueTimeNanos(3));
        assertEquals(1_000 + 10 * S + 333_333_333, r.dueTimeNanos(31));
        assertEquals(1, r.dueCount(1_000 + 333_333_332));
        assertEquals(2, r.dueCount(1_000 + 333_333_333));
        assertEquals(3, r.dueCount(1_000 + S - 1));
        assertEquals(4, r.dueCount(1_000 + S));
    }

    @Test
    void dueCountAndDueTimeAgreeEverywhere() {
        for (int rate : new int[] {1, 7, 100, 999, 100_000}) {
            RateSchedule r = new RateSchedule(-42, rate); // nanoTime may be negative
            for (long i = 0; i < 5_000; i += 1 + i / 10) {
                long t = r.dueTimeNanos(i);
                assertEquals(i + 1, r.dueCount(t), "rate " + rate + " index " + i + " due at its time");
                assertEquals(i, r.dueCount(t - 1), "rate " + rate + " index " + i + " not due before");
            }
        }
    }

    @Test
    void rateIsExactOverLongSpans() {
        RateSchedule r = new RateSchedule(0, 100_000);
        assertEquals(100_000, r.dueCount(S - 1)); // exactly one second's worth in [0, 1 s)
        assertEquals(360_000_000L, r.dueCount(3_600 * S - 1)); // one hour, no drift
        // A century at the top rate: no overflow in either direction.
        long century = 100L * 365 * 24 * 3_600;
        assertEquals(century * 100_000, r.dueCount(century * S - 1));
        assertEquals(century * S, r.dueTimeNanos(century * 100_000));
    }

    @Test
    void lateWakeupSeesEveryMissedEventAsDue() {
        RateSchedule r = new RateSchedule(0, 1_000); // 1 ms apart
        long sent = r.dueCount(0); // 1 sent at the start
        long stalledUntil = 250 * 1_000_000L + 500_000; // woke 250.5 ms later (GC pause, descheduled)
        long burst = r.dueCount(stalledUntil) - sent;
        assertEquals(250, burst); // events 1..250 are all due now: catch up, don't drift
        sent += burst;
        assertEquals(251 * 1_000_000L, r.dueTimeNanos(sent)); // and the next stays on the original grid
    }

    @Test
    void acrossNanoTimeWrapAround() {
        RateSchedule r = new RateSchedule(Long.MAX_VALUE - 10, 1_000);
        assertEquals(2, r.dueCount(Long.MAX_VALUE - 10 + 1_000_000)); // overflowed "now" still works
    }

    @Test
    void rejectsNonPositiveRate() {
        assertThrows(IllegalArgumentException.class, () -> new RateSchedule(0, 0));
    }
}
