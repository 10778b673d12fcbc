package io.odinws.tools.loadtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class ZipfTest {
    @Test
    void drawsAreSkewedAsZipfSays() {
        int n = 160;
        double s = 1.1;
        Zipf z = new Zipf(n, s);
        SplittableRandom r = new SplittableRandom(42);
        int draws = 400_000;
        int[] counts = new int[n];
        for (int i = 0; i < draws; i++) counts[z.sample(r)]++;
        double h = 0;
        for (int k = 1; k <= n; k++) h += 1 / Math.pow(k, s);
        for (int k : new int[] {0, 1, 4, 9}) {
            double expected = draws / Math.pow(k + 1, s) / h;
            assertEquals(expected, counts[k], expected * 0.05 + 30, "rank " + k);
        }
        // rank 1 vs rank 2: 2^1.1 = 2.14 times as often
        assertEquals(Math.pow(2, s), (double) counts[0] / counts[1], 0.1);
        int top10 = Arrays.stream(counts, 0, 10).sum();
        int bottom80 = Arrays.stream(counts, 80, 160).sum();
        assertTrue(top10 > 3 * bottom80, "the head dominates: top 10 " + top10 + " vs bottom 80 " + bottom80);
    }

    @Test
    void distinctDrawsAreDistinctSortedAndStillSkewed() {
        Zipf z = new Zipf(160, Zipf.DEFAULT_EXPONENT);
        SplittableRandom r = new SplittableRandom(7);
        int[] first = new int[160];
        for (int i = 0; i < 2000; i++) {
            int[] d = z.distinct(5, r);
            assertEquals(5, Arrays.stream(d).distinct().count());
            for (int j = 1; j < d.length; j++) assertTrue(d[j - 1] < d[j]);
            for (int x : d) first[x]++;
        }
        assertTrue(first[0] > first[50] * 5, "channel 0 in " + first[0] + " sets, channel 50 in " + first[50]);
        int[] all = z.distinct(160, r); // forces sampling without replacement at the tail
        for (int i = 0; i < 160; i++) assertEquals(i, all[i]);
    }

    @Test
    void planUsesZipfOverTheChannelListAndIsDeterministicPerClient() {
        List<String> channels = new java.util.ArrayList<>();
        for (int i = 0; i < 40; i++) channels.add("T" + i + ".trade");
        ChannelPlan p = new ChannelPlan(channels, new LoadTestOptions.Subscribe(LoadTestOptions.Subscribe.Kind.ZIPF, 3), 0.25, 9);
        ChannelPlan again = new ChannelPlan(channels, new LoadTestOptions.Subscribe(LoadTestOptions.Subscribe.Kind.ZIPF, 3), 0.25, 9);
        int[] hits = new int[40];
        int slow = 0;
        for (int c = 0; c < 4000; c++) {
            int[] mine = p.channelsOf(c);
            assertEquals(3, mine.length);
            assertTrue(Arrays.equals(mine, again.channelsOf(c)), "same seed, same client: same channels");
            for (int x : mine) hits[x]++;
            if (p.isSlow(c)) slow++;
        }
        assertTrue(hits[0] > hits[20] * 4, Arrays.toString(hits));
        assertEquals(1000, slow, "a quarter of the clients, exactly");
        ChannelPlan single = new ChannelPlan(channels, new LoadTestOptions.Subscribe(LoadTestOptions.Subscribe.Kind.SINGLE, 1), 0, 1);
        assertEquals(7, single.channelsOf(47)[0], "single: round-robin");
        ChannelPlan random = new ChannelPlan(channels, new LoadTestOptions.Subscribe(LoadTestOptions.Subscribe.Kind.RANDOM, 30), 0, 1);
        assertEquals(30, Arrays.stream(random.channelsOf(3)).distinct().count());
    }
}
