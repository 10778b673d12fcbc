package io.odinws.tools.publish;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.StreamWriteFeature;
import com.fasterxml.jackson.core.util.ByteArrayBuilder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.nio.charset.StandardCharsets;
import java.util.random.RandomGenerator;

/**
 * One event's compact JSON, written by Jackson's streaming generator into a reused buffer (one instance per
 * factory, not thread-safe). Adds what the payloads need on top: decimals rounded to a number of places, random
 * hex strings, and no checked exceptions (the target is memory). One generator writes every event, one root value
 * after the other without a separator: a generator per event cost more than the encoding itself.
 */
final class JsonWriter {
    // Plain decimals (65000, not 6.5E+4), as a market feed writes them.
    private static final JsonFactory FACTORY = JsonFactory.builder().enable(StreamWriteFeature.WRITE_BIGDECIMAL_AS_PLAIN).build();
    private static final char[] HEX = "0123456789abcdef".toCharArray();
    private static final double[] POW10 = {1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10};

    private final ByteArrayBuilder out = new ByteArrayBuilder(512);
    private final StringBuilder hex = new StringBuilder(80);
    private JsonGenerator json;

    /** Starts a new document (the previous one was taken with {@link #toBytes()}). */
    JsonWriter reset() {
        out.reset();
        if (json == null) {
            try {
                json = FACTORY.createGenerator(out);
                json.setRootValueSeparator(null);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return this;
    }

    JsonWriter beginObject() {
        return write(() -> json.writeStartObject());
    }

    /** Starts a member whose value is an object: {@code "name":{}. */
    JsonWriter beginObject(String name) {
        return write(() -> json.writeObjectFieldStart(name));
    }

    JsonWriter endObject() {
        return write(() -> json.writeEndObject());
    }

    JsonWriter str(String name, String value) {
        return write(() -> json.writeStringField(name, value));
    }

    JsonWriter num(String name, long value) {
        return write(() -> json.writeNumberField(name, value));
    }

    JsonWriter bool(String name, boolean value) {
        return write(() -> json.writeBooleanField(name, value));
    }

    /** A decimal rounded to {@code decimals} places, trailing zeros trimmed; 0 for NaN and infinities (not JSON). */
    JsonWriter dec(String name, double value, int decimals) {
        double scaled = value * POW10[decimals];
        BigDecimal d = !Double.isFinite(value) ? BigDecimal.ZERO
                : Math.abs(scaled) < 9.0e15 ? BigDecimal.valueOf(Math.round(scaled), decimals).stripTrailingZeros()
                : BigDecimal.valueOf(value).setScale(decimals, RoundingMode.HALF_UP).stripTrailingZeros(); // beyond a long
        return write(() -> json.writeNumberField(name, d));
    }

    /** A string of {@code prefix} followed by {@code hexDigits} random lowercase hex digits (tx hashes, ids). */
    JsonWriter randomHex(String name, String prefix, int hexDigits, RandomGenerator rng) {
        hex.setLength(0);
        hex.append(prefix);
        appendRandomHex(hex, hexDigits, rng);
        return write(() -> json.writeStringField(name, hex.toString()));
    }

    static void appendRandomHex(StringBuilder out, int hexDigits, RandomGenerator rng) {
        long bits = 0;
        for (int i = 0; i < hexDigits; i++) {
            if ((i & 15) == 0) bits = rng.nextLong();
            out.append(HEX[(int) (bits & 15)]);
            bits >>>= 4;
        }
    }

    /** The document written since {@link #reset()}. */
    byte[] toBytes() {
        write(() -> json.flush());
        return out.toByteArray();
    }

    @Override
    public String toString() {
        return new String(toBytes(), StandardCharsets.UTF_8);
    }

    private interface Step {
        void run() throws IOException;
    }

    private JsonWriter write(Step step) {
        try {
            step.run();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return this;
    }
}
