package io.odinws.tools.loadtest;

import java.util.Arrays;

/**
 * Per-channel order check of one client, from {@code seq} (the Kafka offset). Within a channel seq
 * strictly increases but has gaps (a partition carries many tokens), so "seq != last + 1" means nothing;
 * what counts is a seq that is not above the highest seen so far: it is a <em>duplicate</em> if that exact seq
 * was already received, otherwise it is <em>out of order</em> (an older message arriving late).
 *
 * <p>Telling the two apart needs the set of seqs already received. Keeping all of them would cost memory
 * per message; instead each channel keeps its highest seq and a 64-bit bitmap of which of the 64 seq values
 * just below it were received (16 bytes per channel and client). Within that window the verdict is exact;
 * a seq more than 64 below the highest is classed out of order and also counted as
 * {@link #BEYOND_WINDOW} so that the report shows the verdict was not exact.
 *
 * <p>Not thread-safe: one client's frames are handled by one event-loop thread at a time.
 */
final class SeqTracker {
    static final int NEW = 0;
    static final int DUPLICATE = 1;
    static final int OUT_OF_ORDER = 2;
    /** Out of order as far as can be told: too far below the highest seq to check for a duplicate. */
    static final int BEYOND_WINDOW = 3;

    static final int WINDOW = 64;
    private static final long NONE = Long.MIN_VALUE;

    private final long[] last;
    /** Bit i set: seq (last - 1 - i) was received. */
    private final long[] seen;

    SeqTracker(int channels) {
        last = new long[channels];
        seen = new long[channels];
        Arrays.fill(last, NONE);
    }

    /** Records {@code seq} on channel slot {@code ch}; returns NEW, DUPLICATE, OUT_OF_ORDER or BEYOND_WINDOW. */
    int accept(int ch, long seq) {
        long l = last[ch];
        if (l == NONE || seq > l) {
            if (l != NONE) {
                long d = seq - l; // >= 1; the old highest moves to bit d-1
                long shifted = d >= WINDOW ? 0 : seen[ch] << d;
                seen[ch] = d - 1 < WINDOW ? shifted | (1L << (d - 1)) : 0;
            }
            last[ch] = seq;
            return NEW;
        }
        if (seq == l) return DUPLICATE;
        long i = l - 1 - seq;
        if (i >= WINDOW) return BEYOND_WINDOW;
        long bit = 1L << i;
        if ((seen[ch] & bit) != 0) return DUPLICATE;
        seen[ch] |= bit;
        return OUT_OF_ORDER;
    }

    /** Highest seq received on the slot, or -1. */
    long highest(int ch) {
        return last[ch] == NONE ? -1 : last[ch];
    }
}
