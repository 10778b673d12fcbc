package io.odinws.tools.loadtest;

import java.util.Arrays;
import java.util.Map;

/**
 * Loss, given the ground truth: for each client that was subscribed (slow clients excluded: they stop
 * reading on purpose) and each of its channels, the offsets produced in the window
 * [client's first subscription_ack + grace, run end - grace] that the client never received. The grace
 * keeps out what was in flight while subscribing and at the end. Seq gaps cannot tell loss on their own:
 * a partition carries many tokens, so only the truth knows which offsets belong to a channel.
 */
final class LossCalculator {
    /** Totals over all checked (client, channel) pairs. */
    record Loss(long expected, long missing, long clientsChecked, long channelsChecked, long clientsWithLoss) {
        double fraction() {
            return expected == 0 ? 0.0 : (double) missing / expected;
        }
    }

    private LossCalculator() {
    }

    /** Truth of one channel prepared for window queries: sorted by timestamp. */
    static final class Timeline {
        final long[] timestamps;
        final long[] offsets;

        Timeline(GroundTruth.ChannelRecords r) {
            int n = r.offsets().length;
            Integer[] order = new Integer[n];
            for (int i = 0; i < n; i++) order[i] = i;
            Arrays.sort(order, (a, b) -> Long.compare(r.timestamps()[a], r.timestamps()[b]));
            timestamps = new long[n];
            offsets = new long[n];
            for (int i = 0; i < n; i++) {
                timestamps[i] = r.timestamps()[order[i]];
                offsets[i] = r.offsets()[order[i]];
            }
        }

        /** Offsets produced in [fromMillis, toMillis], sorted ascending. */
        long[] expectedInWindow(long fromMillis, long toMillis) {
            if (toMillis < fromMillis) return new long[0];
            int lo = lowerBound(timestamps, fromMillis);
            int hi = lowerBound(timestamps, toMillis + 1);
            long[] out = Arrays.copyOfRange(offsets, lo, Math.max(lo, hi));
            Arrays.sort(out);
            return out;
        }
    }

    /** How many of {@code expected} (sorted) are not in {@code received} (sorted, distinct). */
    static long countMissing(long[] expected, long[] received) {
        long missing = 0;
        int j = 0;
        for (int i = 0; i < expected.length; i++) {
            if (i > 0 && expected[i] == expected[i - 1]) continue; // a truth listing an offset twice counts it once
            while (j < received.length && received[j] < expected[i]) j++;
            if (j >= received.length || received[j] != expected[i]) missing++;
        }
        return missing;
    }

    static Loss compute(Client[] clients, ChannelTable table, Map<String, GroundTruth.ChannelRecords> truth,
                        long runEndMillis, long graceMillis) {
        Timeline[] timelines = new Timeline[table.size()];
        for (int i = 0; i < table.size(); i++) {
            GroundTruth.ChannelRecords r = truth.get(table.name(i));
            timelines[i] = new Timeline(r == null ? new GroundTruth.ChannelRecords(new long[0], new long[0]) : r);
        }
        long expected = 0;
        long missing = 0;
        long clientsChecked = 0;
        long channelsChecked = 0;
        long clientsWithLoss = 0;
        long[] none = new long[0];
        for (Client c : clients) {
            if (c == null || c.slow || c.ackMillis < 0 || c.received == null) continue;
            clientsChecked++;
            long clientMissing = 0;
            for (int slot = 0; slot < c.channels.length; slot++) {
                long[] want = timelines[c.channels[slot]].expectedInWindow(c.ackMillis + graceMillis, runEndMillis - graceMillis);
                OffsetLog log = c.received[slot];
                long m = countMissing(want, log == null ? none : log.sortedDistinct());
                expected += countDistinct(want);
                clientMissing += m;
                channelsChecked++;
            }
            missing += clientMissing;
            if (clientMissing > 0) clientsWithLoss++;
        }
        return new Loss(expected, missing, clientsChecked, channelsChecked, clientsWithLoss);
    }

    private static long countDistinct(long[] sorted) {
        long n = 0;
        for (int i = 0; i < sorted.length; i++) if (i == 0 || sorted[i] != sorted[i - 1]) n++;
        return n;
    }

    private static int lowerBound(long[] a, long key) {
        int lo = 0;
        int hi = a.length;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (a[mid] < key) lo = mid + 1;
            else hi = mid;
        }
        return lo;
    }
}
