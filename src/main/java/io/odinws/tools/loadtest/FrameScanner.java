package io.odinws.tools.loadtest;

import java.nio.charset.StandardCharsets;

/**
 * Pulls the few fields the load generator needs out of a server frame, straight from its bytes:
 * the envelope's {@code seq}, {@code ts}, {@code type}, {@code priority}, {@code channel}, {@code pos}, and
 * the {@code timestamp} member of the embedded record value {@code data}.
 *
 * <p>Why not a JSON parser: one client process receives 100k+ frames per second on one or two event-loop
 * threads, on a machine whose cores the server under test also needs. Building a tree (maps, strings,
 * boxed numbers) per frame costs allocation and GC work that would then show up as "server latency".
 * This scanner allocates nothing: it walks the top-level object, matches member names by bytes, reads
 * integers in place, and skips every other value structurally (strings with their escapes, nested
 * objects and arrays by depth). Being structural, it only matches names at the right level: a {@code "seq"}
 * inside a string or inside the record payload is never taken for the envelope's. Member order does not
 * matter. Member names written with escapes (never produced by the server) are not recognised.
 *
 * <p>One instance per thread; the results stay valid until the next {@link #scan}.
 */
final class FrameScanner {
    private static final byte[] SEQ = ascii("seq");
    private static final byte[] TS = ascii("ts");
    private static final byte[] TYPE = ascii("type");
    private static final byte[] PRIORITY = ascii("priority");
    private static final byte[] CHANNEL = ascii("channel");
    private static final byte[] POS = ascii("pos");
    private static final byte[] DATA = ascii("data");
    private static final byte[] TIMESTAMP = ascii("timestamp");

    static final long ABSENT = Long.MIN_VALUE;

    // results of the last scan
    long seq;
    long ts;
    long priority;
    long eventTimestamp;
    long posPartition;
    long posOffset;
    int typeStart;
    int typeEnd;
    int channelStart;
    int channelEnd;

    private byte[] b;
    private int end;
    // out-values of the helpers
    private int strStart;
    private int strEnd;
    private long num;

    /** Scans {@code buf[from, to)}; false if it is not a well-formed JSON object (fields then partly set). */
    boolean scan(byte[] buf, int from, int to) {
        b = buf;
        end = to;
        seq = ts = priority = eventTimestamp = posPartition = posOffset = ABSENT;
        typeStart = typeEnd = channelStart = channelEnd = -1;
        int p = ws(from);
        if (p >= end || b[p] != '{') return false;
        p = ws(p + 1);
        if (p < end && b[p] == '}') return ws(p + 1) == end;
        while (true) {
            p = string(p);
            if (p < 0) return false;
            int ks = strStart;
            int ke = strEnd;
            p = ws(p);
            if (p >= end || b[p] != ':') return false;
            p = ws(p + 1);
            p = member(ks, ke, p);
            if (p < 0) return false;
            p = ws(p);
            if (p >= end) return false;
            if (b[p] == '}') return ws(p + 1) == end;
            if (b[p] != ',') return false;
            p = ws(p + 1);
        }
    }

    boolean hasSeq() {
        return seq != ABSENT;
    }

    /** True if the frame's {@code type} equals {@code expected} (ASCII). */
    boolean typeIs(byte[] expected) {
        return typeStart >= 0 && typeEnd - typeStart == expected.length
                && java.util.Arrays.equals(b, typeStart, typeEnd, expected, 0, expected.length);
    }

    /** The type as a String (for rare frames and diagnostics), or null. */
    String type() {
        return typeStart < 0 ? null : new String(b, typeStart, typeEnd - typeStart, StandardCharsets.UTF_8);
    }

    String channel() {
        return channelStart < 0 ? null : new String(b, channelStart, channelEnd - channelStart, StandardCharsets.UTF_8);
    }

    /** Parses the value of a top-level member; returns the position after it or -1. */
    private int member(int ks, int ke, int p) {
        if (p >= end) return -1;
        if (is(ks, ke, SEQ)) {
            p = integer(p);
            seq = num;
            return p;
        }
        if (is(ks, ke, TS)) {
            p = integer(p);
            ts = num;
            return p;
        }
        if (is(ks, ke, PRIORITY)) {
            p = integer(p);
            priority = num;
            return p;
        }
        if (is(ks, ke, TYPE) || is(ks, ke, CHANNEL) || is(ks, ke, POS)) {
            if (b[p] != '"') return skip(p);
            int q = string(p);
            if (q < 0) return -1;
            if (is(ks, ke, TYPE)) {
                typeStart = strStart;
                typeEnd = strEnd;
            } else if (is(ks, ke, CHANNEL)) {
                channelStart = strStart;
                channelEnd = strEnd;
            } else {
                pos(strStart, strEnd);
            }
            return q;
        }
        if (is(ks, ke, DATA) && b[p] == '{') return data(p);
        return skip(p);
    }

    /** The record value: only its own top-level {@code timestamp} counts, not one nested in its payload. */
    private int data(int p) {
        p = ws(p + 1);
        if (p < end && b[p] == '}') return p + 1;
        while (true) {
            p = string(p);
            if (p < 0) return -1;
            int ks = strStart;
            int ke = strEnd;
            p = ws(p);
            if (p >= end || b[p] != ':') return -1;
            p = ws(p + 1);
            if (p >= end) return -1;
            if (is(ks, ke, TIMESTAMP)) {
                if (b[p] == '"') { // tolerate a quoted number
                    int q = string(p);
                    if (q < 0) return -1;
                    long v = digits(strStart, strEnd);
                    if (v != ABSENT) eventTimestamp = v;
                    p = q;
                } else {
                    p = integer(p);
                    if (num != ABSENT) eventTimestamp = num;
                }
            } else {
                p = skip(p);
            }
            if (p < 0) return -1;
            p = ws(p);
            if (p >= end) return -1;
            if (b[p] == '}') return p + 1;
            if (b[p] != ',') return -1;
            p = ws(p + 1);
        }
    }

    /** A number: sets {@link #num} if it is an integer that fits a long, else ABSENT; returns the position after it. */
    private int integer(int p) {
        num = ABSENT;
        int q = p;
        if (q < end && b[q] == '-') q++;
        int digitsFrom = q;
        while (q < end && b[q] >= '0' && b[q] <= '9') q++;
        if (q == digitsFrom || (q < end && (b[q] == '.' || b[q] == 'e' || b[q] == 'E'))) return skip(p);
        long v = digits(digitsFrom, q);
        if (v != ABSENT) num = b[p] == '-' ? -v : v;
        return q;
    }

    /** Decimal digits {@code [from, to)} as a long; ABSENT if empty, not digits, or too long. */
    private long digits(int from, int to) {
        if (to <= from || to - from > 18) return ABSENT;
        long v = 0;
        for (int i = from; i < to; i++) {
            int d = b[i] - '0';
            if (d < 0 || d > 9) return ABSENT;
            v = v * 10 + d;
        }
        return v;
    }

    /** {@code "partition:offset"}. */
    private void pos(int from, int to) {
        for (int i = from; i < to; i++) {
            if (b[i] == ':') {
                long part = digits(from, i);
                long off = digits(i + 1, to);
                if (part != ABSENT && off != ABSENT) {
                    posPartition = part;
                    posOffset = off;
                }
                return;
            }
        }
    }

    /** Expects a string at p; sets strStart/strEnd to its raw content; returns the position after it or -1. */
    private int string(int p) {
        if (p >= end || b[p] != '"') return -1;
        int i = p + 1;
        while (i < end) {
            byte c = b[i];
            if (c == '"') {
                strStart = p + 1;
                strEnd = i;
                return i + 1;
            }
            i += c == '\\' ? 2 : 1;
        }
        return -1;
    }

    /** Skips any value; returns the position after it or -1. */
    private int skip(int p) {
        if (p >= end) return -1;
        byte c = b[p];
        if (c == '"') return string(p);
        if (c == '{' || c == '[') {
            int depth = 0;
            int i = p;
            while (i < end) {
                c = b[i];
                if (c == '"') {
                    i = string(i);
                    if (i < 0) return -1;
                    continue;
                }
                if (c == '{' || c == '[') depth++;
                else if ((c == '}' || c == ']') && --depth == 0) return i + 1;
                i++;
            }
            return -1;
        }
        int i = p; // number, true, false, null
        while (i < end && (c = b[i]) != ',' && c != '}' && c != ']' && c != ' ' && c != '\t' && c != '\n' && c != '\r') i++;
        return i == p ? -1 : i;
    }

    private int ws(int p) {
        while (p < end && (b[p] == ' ' || b[p] == '\t' || b[p] == '\n' || b[p] == '\r')) p++;
        return p;
    }

    private boolean is(int from, int to, byte[] name) {
        return to - from == name.length && java.util.Arrays.equals(b, from, to, name, 0, name.length);
    }

    static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }
}
