package io.odinws.tools.publish;

import java.nio.charset.StandardCharsets;
import java.util.random.RandomGenerator;

/**
 * Minimal compact-JSON builder, reused for every event (one instance per factory, not thread-safe).
 * Hand-built rather than JsonObject+Jackson because the publisher must sustain 100k events/s on two cores
 * next to a broker; this avoids a map, boxing and Double.toString per field.
 */
final class JsonWriter {
    private static final char[] HEX = "0123456789abcdef".toCharArray();
    private static final long[] POW10 = {1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000,
            100_000_000, 1_000_000_000, 10_000_000_000L};

    private final StringBuilder sb = new StringBuilder(512);
    /** True once the current object holds a member, so the next one needs a comma. */
    private boolean needComma;

    JsonWriter reset() {
        sb.setLength(0);
        needComma = false;
        return this;
    }

    JsonWriter beginObject() {
        sb.append('{');
        needComma = false;
        return this;
    }

    /** Starts a member whose value is an object: {@code "name":{}. */
    JsonWriter beginObject(String name) {
        name(name);
        return beginObject();
    }

    JsonWriter endObject() {
        sb.append('}');
        needComma = true; // the closed object was a value of its parent
        return this;
    }

    JsonWriter str(String name, String value) {
        name(name);
        quoted(value);
        return this;
    }

    JsonWriter num(String name, long value) {
        name(name);
        sb.append(value);
        return this;
    }

    JsonWriter bool(String name, boolean value) {
        name(name);
        sb.append(value);
        return this;
    }

    /** A decimal rounded to {@code decimals} places (0..10), trailing zeros trimmed. */
    JsonWriter dec(String name, double value, int decimals) {
        name(name);
        if (!Double.isFinite(value)) { // never expected; JSON has no NaN/Infinity
            sb.append('0');
            return this;
        }
        long scale = POW10[decimals];
        if (Math.abs(value) * scale >= 9.0e15) { // beyond exact long arithmetic: plain (valid JSON) form
            sb.append(value);
            return this;
        }
        long scaled = Math.round(value * scale);
        if (scaled < 0) {
            sb.append('-');
            scaled = -scaled;
        }
        sb.append(scaled / scale);
        long frac = scaled % scale;
        if (frac != 0) {
            int digits = decimals;
            while (frac % 10 == 0) {
                frac /= 10;
                digits--;
            }
            sb.append('.');
            for (long p = POW10[digits - 1]; p > frac; p /= 10) sb.append('0'); // leading zeros
            sb.append(frac);
        }
        return this;
    }

    /** A string of {@code prefix} followed by {@code hexDigits} random lowercase hex digits (tx hashes, ids). */
    JsonWriter randomHex(String name, String prefix, int hexDigits, RandomGenerator rng) {
        name(name);
        sb.append('"').append(prefix);
        appendRandomHex(sb, hexDigits, rng);
        sb.append('"');
        return this;
    }

    static void appendRandomHex(StringBuilder out, int hexDigits, RandomGenerator rng) {
        long bits = 0;
        for (int i = 0; i < hexDigits; i++) {
            if ((i & 15) == 0) bits = rng.nextLong();
            out.append(HEX[(int) (bits & 15)]);
            bits >>>= 4;
        }
    }

    byte[] toBytes() {
        return sb.toString().getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public String toString() {
        return sb.toString();
    }

    private void name(String name) {
        if (needComma) sb.append(',');
        quoted(name);
        sb.append(':');
        needComma = true;
    }

    private void quoted(String s) {
        sb.append('"');
        for (int i = 0, n = s.length(); i < n; i++) {
            char c = s.charAt(i);
            if (c == '"' || c == '\\') {
                sb.append('\\').append(c);
            } else if (c < 0x20) {
                sb.append("\\u00").append(HEX[c >> 4]).append(HEX[c & 15]);
            } else {
                sb.append(c);
            }
        }
        sb.append('"');
    }
}
