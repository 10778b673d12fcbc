package io.odinws.tools.loadtest;

import static io.odinws.tools.loadtest.SeqTracker.BEYOND_WINDOW;
import static io.odinws.tools.loadtest.SeqTracker.DUPLICATE;
import static io.odinws.tools.loadtest.SeqTracker.NEW;
import static io.odinws.tools.loadtest.SeqTracker.OUT_OF_ORDER;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class SeqTrackerTest {
    @Test
    void increasingWithGapsIsNormal() {
        SeqTracker t = new SeqTracker(1);
        for (long seq : new long[] {3, 4, 10, 11, 500, 100_000}) assertEquals(NEW, t.accept(0, seq), "seq " + seq);
        assertEquals(100_000, t.highest(0));
    }

    @Test
    void duplicatesAndOutOfOrder() {
        SeqTracker t = new SeqTracker(1);
        assertEquals(NEW, t.accept(0, 10));
        assertEquals(DUPLICATE, t.accept(0, 10), "the same as the last");
        assertEquals(NEW, t.accept(0, 13));
        assertEquals(NEW, t.accept(0, 17));
        assertEquals(DUPLICATE, t.accept(0, 13), "below the last, already seen");
        assertEquals(OUT_OF_ORDER, t.accept(0, 15), "below the last, never seen: a late message");
        assertEquals(DUPLICATE, t.accept(0, 15), "the late one again");
        assertEquals(OUT_OF_ORDER, t.accept(0, 11));
        assertEquals(NEW, t.accept(0, 18));
        assertEquals(DUPLICATE, t.accept(0, 10), "still remembered after a new highest");
        assertEquals(OUT_OF_ORDER, t.accept(0, 2), "before the first seen");
    }

    @Test
    void channelsAreIndependent() {
        SeqTracker t = new SeqTracker(2);
        assertEquals(NEW, t.accept(0, 100));
        assertEquals(NEW, t.accept(1, 5), "a low seq on another channel is fine");
        assertEquals(NEW, t.accept(1, 100));
        assertEquals(DUPLICATE, t.accept(0, 100));
        assertEquals(OUT_OF_ORDER, t.accept(1, 50));
    }

    @Test
    void windowEdges() {
        SeqTracker t = new SeqTracker(1);
        assertEquals(NEW, t.accept(0, 1000));
        assertEquals(NEW, t.accept(0, 1064)); // the old highest is exactly 64 below: bit 63
        assertEquals(DUPLICATE, t.accept(0, 1000));
        assertEquals(OUT_OF_ORDER, t.accept(0, 1001));
        assertEquals(BEYOND_WINDOW, t.accept(0, 999), "65 below the highest: cannot tell");
        assertEquals(NEW, t.accept(0, 1200)); // jump past the window: forget everything below
        assertEquals(BEYOND_WINDOW, t.accept(0, 1064));
        assertEquals(NEW, t.accept(0, 1201));
        assertEquals(DUPLICATE, t.accept(0, 1200));
    }

    @Test
    void exactAgainstASetOnRandomStreams() {
        java.util.SplittableRandom r = new java.util.SplittableRandom(1);
        for (int run = 0; run < 200; run++) {
            SeqTracker t = new SeqTracker(1);
            java.util.Set<Long> seen = new java.util.HashSet<>();
            long max = -1;
            long next = 0;
            for (int i = 0; i < 300; i++) {
                long seq;
                int k = r.nextInt(10);
                if (k < 7 || max < 0) seq = next += 1 + r.nextInt(3);
                else seq = Math.max(0, max - r.nextInt(40)); // a repeat or a late one, within the window
                int expected = seq > max ? NEW : seen.contains(seq) ? DUPLICATE : OUT_OF_ORDER;
                assertEquals(expected, t.accept(0, seq), "run " + run + " step " + i + " seq " + seq);
                seen.add(seq);
                max = Math.max(max, seq);
                next = Math.max(next, max);
            }
        }
    }
}
