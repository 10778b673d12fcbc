package io.odinws.tools.loadtest;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * Who subscribes to what: the channel table and, per client, the sorted indexes of its channels and
 * whether it is one of the slow clients or of those dropped by --drop-fraction. Decisions depend only on the seed and the client's global index,
 * so a run spread over several processes subscribes exactly as one process would.
 *
 * <p>The table holds the drawn-from channel list first, then the channels that --private-channels adds to every
 * client and that are not in that list ({@code *.balances} stands for {@code <token>.balances} of every token of
 * the list): a client's channels are its draw plus those, its subscription message names its draw plus the
 * --private-channels entries as given.
 */
final class ChannelPlan {
    final ChannelTable table;
    /** Channel-table indexes every client has besides its draw (from --private-channels), sorted. */
    private final int[] extra;
    /** The --private-channels entries as the subscription message names them. */
    private final List<String> extraNames;
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
        this(channels, List.of(), subscribe, slowFraction, dropFraction, seed);
    }

    ChannelPlan(List<String> channels, List<String> privateChannels, LoadTestOptions.Subscribe subscribe, double slowFraction,
                double dropFraction, long seed) {
        List<String> names = new ArrayList<>(channels);
        Set<String> extraSet = new LinkedHashSet<>(expand(channels, privateChannels));
        for (String c : extraSet) if (!names.contains(c)) names.add(c);
        this.table = new ChannelTable(names);
        this.extra = extraSet.stream().mapToInt(names::indexOf).sorted().toArray();
        this.extraNames = List.copyOf(privateChannels);
        this.subscribe = subscribe;
        this.slowFraction = slowFraction;
        this.dropFraction = dropFraction;
        this.seed = seed;
        this.all = new int[channels.size()]; // the drawn-from list only
        for (int i = 0; i < all.length; i++) all[i] = i;
        this.zipf = subscribe.kind() == LoadTestOptions.Subscribe.Kind.ZIPF ? new Zipf(channels.size(), Zipf.DEFAULT_EXPONENT) : null;
    }

    ChannelPlan(LoadTestOptions o) {
        this(o.channels(), o.privateChannels(), o.subscribe(), o.slowFraction(), o.dropFraction(), o.seed());
    }

    /** The concrete channels of --private-channels entries: {@code *.CAT} is CAT of every token of {@code channels}. */
    static List<String> expand(List<String> channels, List<String> privateChannels) {
        Set<String> out = new LinkedHashSet<>();
        for (String p : privateChannels) {
            if (!p.startsWith("*.")) {
                out.add(p);
                continue;
            }
            String category = p.substring(2);
            for (String c : channels) out.add(c.substring(0, c.lastIndexOf('.')) + "." + category);
        }
        return List.copyOf(out);
    }

    /** Sorted channel indexes of client {@code globalIndex}: its draw plus the --private-channels ones. */
    int[] channelsOf(int globalIndex) {
        int[] drawn = drawnOf(globalIndex);
        if (extra.length == 0) return drawn;
        int[] merged = Arrays.copyOf(drawn, drawn.length + extra.length);
        System.arraycopy(extra, 0, merged, drawn.length, extra.length);
        Arrays.sort(merged);
        int m = 0;
        for (int i = 0; i < merged.length; i++) if (m == 0 || merged[i] != merged[m - 1]) merged[m++] = merged[i];
        return m == merged.length ? merged : Arrays.copyOf(merged, m);
    }

    /** What the subscription message of client {@code globalIndex} names: its draw, then --private-channels as given. */
    List<String> subscriptionOf(int globalIndex) {
        List<String> out = new ArrayList<>();
        for (int i : drawnOf(globalIndex)) out.add(table.name(i));
        out.addAll(extraNames);
        return out;
    }

    /** Sorted channel indexes drawn for client {@code globalIndex}; ALL shares one array between clients (read-only). */
    int[] drawnOf(int globalIndex) {
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
