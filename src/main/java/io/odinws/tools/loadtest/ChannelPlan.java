package io.odinws.tools.loadtest;

import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Who subscribes to what: the channel table and, per client, the sorted indexes of its channels and
 * whether it is one of the slow clients or of those dropped by --drop-fraction. Decisions depend only on the seed and the client's global index,
 * so a run spread over several processes subscribes exactly as one process would.
 */
final class ChannelPlan {
    final ChannelTable table;
    private final LoadTestOptions.Subscribe subscribe;
    private final double slowFraction;
    private final double dropFraction;
    private final long seed;
    private final int[] all;
    private final Zipf zipf;

    ChannelPlan(List<String> channels, LoadTestOptions.Subscribe subscribe, double slowFraction, long seed) {
        this(channels, subscribe, slowFraction, 0, seed);
    }

    ChannelPlan(List<String> channels, LoadTestOptions.Subscribe subscribe, double slowFraction, double dropFraction, long seed) {
        this.table = new ChannelTable(channels);
        this.subscribe = subscribe;
        this.slowFraction = slowFraction;
        this.dropFraction = dropFraction;
        this.seed = seed;
        this.all = new int[channels.size()];
        for (int i = 0; i < all.length; i++) all[i] = i;
        this.zipf = subscribe.kind() == LoadTestOptions.Subscribe.Kind.ZIPF ? new Zipf(channels.size(), Zipf.DEFAULT_EXPONENT) : null;
    }

    ChannelPlan(LoadTestOptions o) {
        this(o.channels(), o.subscribe(), o.slowFraction(), o.dropFraction(), o.seed());
    }

    /** Sorted channel indexes of client {@code globalIndex}; ALL shares one array between clients (read-only). */
    int[] channelsOf(int globalIndex) {
        int n = all.length;
        return switch (subscribe.kind()) {
            case ALL -> all;
            case SINGLE -> new int[] {globalIndex % n};
            case RANDOM -> randomDistinct(subscribe.count(), rng(globalIndex));
            case ZIPF -> zipf.distinct(subscribe.count(), rng(globalIndex));
        };
    }

    /** Spreads slow clients evenly: client i is slow when floor((i+1)f) > floor(i f). */
    boolean isSlow(int globalIndex) {
        return Math.floor((globalIndex + 1) * slowFraction) > Math.floor(globalIndex * slowFraction);
    }

    /**
     * Spreads dropped clients evenly like {@link #isSlow}, half a step out of phase: client i is dropped when
     * floor((i+1)f + 1/2) > floor(i f + 1/2). That picks round(n f) of n clients and, for the usual fractions
     * (equal ones, or 0.05 slow with 0.5 dropped), other clients than the slow ones: a slow client has stopped
     * reading, so how it comes back would say little about recovery.
     */
    boolean isDropped(int globalIndex) {
        return Math.floor((globalIndex + 1) * dropFraction + 0.5) > Math.floor(globalIndex * dropFraction + 0.5);
    }

    private SplittableRandom rng(int globalIndex) {
        return new SplittableRandom(seed ^ (0x9E3779B97F4A7C15L * (globalIndex + 1)));
    }

    private int[] randomDistinct(int k, SplittableRandom rng) {
        int n = all.length;
        int[] out;
        if (k * 4L < n) { // sparse: rejection
            out = new int[k];
            boolean[] taken = new boolean[n];
            for (int j = 0; j < k; ) {
                int r = rng.nextInt(n);
                if (!taken[r]) {
                    taken[r] = true;
                    out[j++] = r;
                }
            }
        } else { // dense: partial Fisher-Yates
            int[] p = all.clone();
            for (int j = 0; j < k; j++) {
                int r = j + rng.nextInt(n - j);
                int t = p[j];
                p[j] = p[r];
                p[r] = t;
            }
            out = Arrays.copyOf(p, k);
        }
        Arrays.sort(out);
        return out;
    }
}
