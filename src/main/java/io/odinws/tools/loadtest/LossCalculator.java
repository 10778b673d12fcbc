package io.odinws.tools.loadtest;

import java.util.Arrays;
import java.util.Map;

/**
 * Loss, given the ground truth: for each client that was subscribed (slow clients excluded: they stop
 * reading on purpose) and each of its channels, the offsets produced in the window
 * [client's first subscription_ack + grace, run end - grace] that the client never received. The grace
 * keeps out what was in flight while subscribing and at the end. Seq gaps cannot tell loss on their own:
 * a partition carries many tokens, so only the truth knows which offsets belong to a channel.
 *
 * <p>Private records (a channel whose truth carries owners, with --auth-*): a client expects only the records
 * whose owners include its {@code sub}, and every record it received whose owners do not is a leak (counted
 * whenever it arrived, window or not). A client without a {@code sub} expects them all, as public records.
 */
final class LossCalculator {
    /** Totals over all checked (client, channel) pairs. */
    record Loss(long expected, long missing, long clientsChecked, long channelsChecked, long clientsWithLoss,
                long privateExpected, long leaked, long clientsWithLeaks) {
        Loss(long expected, long missing, long clientsChecked, long channelsChecked, long clientsWithLoss) {
            this(expected, missing, clientsChecked, channelsChecked, clientsWithLoss, 0, 0, 0);
        }

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
        /** Owners by the order above; null for a public channel. */
        final String[][] owners;
        /** For the leak check: offsets ascending, and their owners. */
        private final long[] sortedOffsets;
        private final String[][] ownersBySortedOffset;

        Timeline(GroundTruth.ChannelRecords r) {
            int n = r.offsets().length;
            Integer[] order = new Integer[n];
            for (int i = 0; i < n; i++) order[i] = i;
            Arrays.sort(order, (a, b) -> Long.compare(r.timestamps()[a], r.timestamps()[b]));
            timestamps = new long[n];
            offsets = new long[n];
            owners = r.owners() == null ? null : new String[n][];
            for (int i = 0; i < n; i++) {
                timestamps[i] = r.timestamps()[order[i]];
                offsets[i] = r.offsets()[order[i]];
                if (owners != null) owners[i] = r.owners()[order[i]];
            }
            if (owners == null) {
                sortedOffsets = null;
                ownersBySortedOffset = null;
            } else {
                Integer[] byOffset = new Integer[n];
                for (int i = 0; i < n; i++) byOffset[i] = i;
                Arrays.sort(byOffset, (a, b) -> Long.compare(offsets[a], offsets[b]));
                sortedOffsets = new long[n];
                ownersBySortedOffset = new String[n][];
                for (int i = 0; i < n; i++) {
                    sortedOffsets[i] = offsets[byOffset[i]];
                    ownersBySortedOffset[i] = owners[byOffset[i]];
                }
            }
        }

        boolean isPrivate() {
            return owners != null;
        }

        /** Offsets produced in [fromMillis, toMillis] that {@code subject} owns, sorted ascending; all when public. */
        long[] expectedInWindow(long fromMillis, long toMillis, String subject) {
            if (owners == null || subject == null) return expectedInWindow(fromMillis, toMillis);
            if (toMillis < fromMillis) return new long[0];
            int lo = lowerBound(timestamps, fromMillis);
            int hi = lowerBound(timestamps, toMillis + 1);
            long[] out = new long[Math.max(0, hi - lo)];
            int m = 0;
            for (int i = lo; i < hi; i++) if (owns(owners[i], subject)) out[m++] = offsets[i];
            out = Arrays.copyOf(out, m);
            Arrays.sort(out);
            return out;
        }

        /** How many of {@code received} (sorted, distinct) are records of the truth that {@code subject} does not own. */
        long leaks(long[] received, String subject) {
            if (owners == null || subject == null) return 0;
            long n = 0;
            int j = 0;
            for (long o : received) {
                while (j < sortedOffsets.length && sortedOffsets[j] < o) j++;
                if (j < sortedOffsets.length && sortedOffsets[j] == o && !owns(ownersBySortedOffset[j], subject)) n++;
            }
            return n;
        }

        private static boolean owns(String[] owners, String subject) {
            if (owners == null) return false;
            for (String s : owners) if (subject.equals(s)) return true;
            return false;
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
        return compute(clients, table, truth, runEndMillis, graceMillis, null);
    }

    /** @param auth null: nobody has a {@code sub}, every record is expected by every subscriber of its channel */
    static Loss compute(Client[] clients, ChannelTable table, Map<String, GroundTruth.ChannelRecords> truth,
                        long runEndMillis, long graceMillis, AuthOptions auth) {
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
        long privateExpected = 0;
        long leaked = 0;
        long clientsWithLeaks = 0;
        long[] none = new long[0];
        for (Client c : clients) {
            if (c == null || c.received == null) continue;
            String subject = auth == null ? null : auth.subjectOf(c.globalIndex);
            // leaks count for every client that received anything, slow ones included
            long clientLeaks = 0;
            for (int slot = 0; slot < c.channels.length && subject != null; slot++) {
                OffsetLog log = c.received[slot];
                if (log != null) clientLeaks += timelines[c.channels[slot]].leaks(log.sortedDistinct(), subject);
            }
            leaked += clientLeaks;
            if (clientLeaks > 0) clientsWithLeaks++;
            if (c.slow || c.ackMillis < 0) continue;
            clientsChecked++;
            long clientMissing = 0;
            for (int slot = 0; slot < c.channels.length; slot++) {
                Timeline t = timelines[c.channels[slot]];
                long[] want = t.expectedInWindow(c.ackMillis + graceMillis, runEndMillis - graceMillis, subject);
                OffsetLog log = c.received[slot];
                long m = countMissing(want, log == null ? none : log.sortedDistinct());
                long n = countDistinct(want);
                expected += n;
                if (t.isPrivate() && subject != null) privateExpected += n;
                clientMissing += m;
                channelsChecked++;
            }
            missing += clientMissing;
            if (clientMissing > 0) clientsWithLoss++;
        }
        return new Loss(expected, missing, clientsChecked, channelsChecked, clientsWithLoss, privateExpected, leaked,
                clientsWithLeaks);
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
