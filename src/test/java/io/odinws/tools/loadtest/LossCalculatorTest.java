package io.odinws.tools.loadtest;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class LossCalculatorTest {
    @Test
    void countMissingComparesOffsetsNotCounts() {
        assertEquals(0, LossCalculator.countMissing(new long[] {1, 4, 9}, new long[] {1, 4, 9}));
        assertEquals(1, LossCalculator.countMissing(new long[] {1, 4, 9}, new long[] {1, 9}));
        // as many received as expected, but one is not an expected offset: still one missing
        assertEquals(1, LossCalculator.countMissing(new long[] {1, 4, 9}, new long[] {1, 5, 9}));
        assertEquals(3, LossCalculator.countMissing(new long[] {1, 4, 9}, new long[0]));
        assertEquals(0, LossCalculator.countMissing(new long[0], new long[] {2, 3}));
        assertEquals(1, LossCalculator.countMissing(new long[] {4, 4}, new long[] {1}), "a truth listing an offset twice");
    }

    @Test
    void windowSelectsByProductionTime() {
        var t = new LossCalculator.Timeline(new GroundTruth.ChannelRecords(
                new long[] {30, 10, 20, 40, 50}, new long[] {1300, 1100, 1200, 1400, 1500}));
        assertArrayEquals(new long[] {20, 30, 40}, t.expectedInWindow(1200, 1400), "inclusive on both ends");
        assertArrayEquals(new long[] {}, t.expectedInWindow(1401, 1499));
        assertArrayEquals(new long[] {}, t.expectedInWindow(1500, 1000));
        assertArrayEquals(new long[] {10, 20, 30, 40, 50}, t.expectedInWindow(0, Long.MAX_VALUE - 1));
    }

    @Test
    void offsetLogRoundTripsIncludingReorderAndDuplicates() {
        OffsetLog log = new OffsetLog();
        long[] in = {5, 9, 7, 1_000_000_000_000L, 9, 3, 0};
        for (long v : in) log.add(v);
        assertEquals(in.length, log.count());
        assertArrayEquals(new long[] {0, 3, 5, 7, 9, 1_000_000_000_000L}, log.sortedDistinct());
    }

    @Test
    void computePerClientWindowAndChannel() {
        ChannelTable table = new ChannelTable(List.of("A.x", "B.y"));
        // A.x: offsets 100..109 produced at 1000..1900 ms; B.y: offsets 7..9 at 1500, 1600, 1700
        long[] ao = new long[10];
        long[] at = new long[10];
        for (int i = 0; i < 10; i++) {
            ao[i] = 100 + i;
            at[i] = 1000 + 100L * i;
        }
        Map<String, GroundTruth.ChannelRecords> truth = Map.of(
                "A.x", new GroundTruth.ChannelRecords(ao, at),
                "B.y", new GroundTruth.ChannelRecords(new long[] {7, 8, 9}, new long[] {1500, 1600, 1700}));
        // client 0: both channels, acked at 1150 -> window [1250, 1750] with grace 100 and end 1850
        Client c0 = new Client(0, 0, new int[] {0, 1}, false, false, false, true);
        c0.ackMillis = 1150;
        for (long o : new long[] {100, 101, 103, 104, 105, 107, 103}) c0.receivedOffset(0, o); // misses 106; 103 twice
        c0.receivedOffset(1, 9);                                                                // misses 7 and 8
        // client 1: A.x only, acked late (1600): window [1700, 1750] = offset 107, received
        Client c1 = new Client(1, 1, new int[] {0}, false, false, false, true);
        c1.ackMillis = 1600;
        c1.receivedOffset(0, 107);
        // excluded: never acked, and slow
        Client never = new Client(2, 2, new int[] {0}, false, false, false, true);
        Client slow = new Client(3, 3, new int[] {0}, true, false, false, true);
        slow.ackMillis = 1000;
        LossCalculator.Loss loss = LossCalculator.compute(new Client[] {c0, c1, never, slow}, table, truth, 1850, 100);
        // client 0 A.x window [1250,1750]: 103..107 = 5 expected, 106 missing; B.y: 7,8,9 expected, 2 missing
        assertEquals(5 + 3 + 1, loss.expected());
        assertEquals(1 + 2, loss.missing());
        assertEquals(2, loss.clientsChecked());
        assertEquals(3, loss.channelsChecked());
        assertEquals(1, loss.clientsWithLoss());
        assertEquals(3.0 / 9, loss.fraction(), 1e-12);
    }

    @Test
    void aChannelWithoutTruthExpectsNothing() {
        ChannelTable table = new ChannelTable(List.of("A.x"));
        Client c = new Client(0, 0, new int[] {0}, false, false, false, true);
        c.ackMillis = 0;
        LossCalculator.Loss loss = LossCalculator.compute(new Client[] {c}, table, Map.of(), 10_000, 0);
        assertEquals(0, loss.expected());
        assertEquals(0.0, loss.fraction());
    }
}
