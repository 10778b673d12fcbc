package io.odinws.tools.loadtest;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Channel name to index, looked up straight from the bytes of a received frame (no String per frame):
 * open addressing over the raw UTF-8 of the names.
 */
final class ChannelTable {
    private final String[] names;
    private final byte[][] bytes;
    private final int[] slots; // index + 1, 0 = empty
    private final int mask;

    ChannelTable(List<String> channels) {
        names = channels.toArray(new String[0]);
        bytes = new byte[names.length][];
        int cap = Integer.highestOneBit(Math.max(4, names.length * 3)) << 1;
        slots = new int[cap];
        mask = cap - 1;
        for (int i = 0; i < names.length; i++) {
            bytes[i] = names[i].getBytes(StandardCharsets.UTF_8);
            int h = hash(bytes[i], 0, bytes[i].length) & mask;
            while (slots[h] != 0) h = (h + 1) & mask;
            slots[h] = i + 1;
        }
    }

    int size() {
        return names.length;
    }

    String name(int index) {
        return names[index];
    }

    byte[] bytes(int index) {
        return bytes[index];
    }

    /** Index of the channel spelled by {@code b[from, to)}, or -1. */
    int indexOf(byte[] b, int from, int to) {
        int h = hash(b, from, to) & mask;
        for (int s; (s = slots[h]) != 0; h = (h + 1) & mask) {
            byte[] k = bytes[s - 1];
            if (k.length == to - from && java.util.Arrays.equals(k, 0, k.length, b, from, to)) return s - 1;
        }
        return -1;
    }

    private static int hash(byte[] b, int from, int to) {
        int h = 0x811C9DC5;
        for (int i = from; i < to; i++) h = (h ^ b[i]) * 0x01000193;
        return h ^ (h >>> 16);
    }
}
