package io.odinws.tools.loadtest;

import java.util.Arrays;

/**
 * The offsets one client received on one channel, for the loss check: zigzag-varint deltas in a growing
 * byte array, so a run costs about one or two bytes per delivered message (consecutive offsets of a channel
 * are close) instead of eight. Only kept when a ground truth is available. Not thread-safe.
 */
final class OffsetLog {
    private byte[] buf = new byte[16];
    private int size;
    private int count;
    private long prev;

    void add(long offset) {
        long d = offset - prev;
        prev = offset;
        long z = (d << 1) ^ (d >> 63);
        if (size + 10 > buf.length) buf = Arrays.copyOf(buf, Math.max(buf.length + (buf.length >> 1), size + 10));
        while ((z & ~0x7FL) != 0) {
            buf[size++] = (byte) ((z & 0x7F) | 0x80);
            z >>>= 7;
        }
        buf[size++] = (byte) z;
        count++;
    }

    int count() {
        return count;
    }

    /** The offsets added, sorted ascending, duplicates removed. */
    long[] sortedDistinct() {
        long[] out = new long[count];
        long v = 0;
        int p = 0;
        for (int n = 0; n < count; n++) {
            long z = 0;
            int shift = 0;
            byte x;
            do {
                x = buf[p++];
                z |= (long) (x & 0x7F) << shift;
                shift += 7;
            } while (x < 0);
            v += (z >>> 1) ^ -(z & 1);
            out[n] = v;
        }
        Arrays.sort(out);
        int m = 0;
        for (int i = 0; i < out.length; i++) if (m == 0 || out[i] != out[m - 1]) out[m++] = out[i];
        return m == out.length ? out : Arrays.copyOf(out, m);
    }
}
