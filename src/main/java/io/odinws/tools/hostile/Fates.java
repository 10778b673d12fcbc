package io.odinws.tools.hostile;

import io.vertx.core.json.JsonObject;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * Every hostile socket's fate, by kind and reason, with how long the socket lived (from the start of its
 * connect to its fate). Written by the run's one event loop; read after it has stopped.
 */
final class Fates {

    /** Fate names of the summary (a status or a close code is appended to some: {@code http_429}, {@code close_1008}). */
    static final String CONNECT_FAILED = "connect_failed";
    static final String HTTP = "http_";
    static final String CLOSE = "close_";
    static final String CLIENT_CLOSE_ECHOED = "client_close_echoed";
    static final String ECHO_TIMEOUT = "client_close_not_answered";
    static final String CLOSED_BEFORE_UPGRADE = "closed_by_server_before_upgrade";
    static final String CLOSED_WITHOUT_CLOSE_FRAME = "closed_by_server_without_close_frame";
    static final String RESET = "reset_by_server";
    static final String STILL_OPEN = "still_open_at_end";

    private final Map<Kind, PerKind> kinds = new EnumMap<>(Kind.class);

    Fates(HostileOptions options) {
        for (Kind k : Kind.values()) {
            if (options.slotsOf(k) > 0) kinds.put(k, new PerKind(options.slotsOf(k)));
        }
    }

    void opened(Kind k) {
        kinds.get(k).sockets++;
    }

    void upgraded(Kind k) {
        kinds.get(k).upgraded++;
    }

    void messagesSent(Kind k, int n) {
        kinds.get(k).messagesSent += n;
    }

    void record(Kind k, String fate, long livedNanos) {
        kinds.get(k).fates.computeIfAbsent(fate, f -> new Durations()).add(livedNanos / 1_000_000);
    }

    /** The summary: per kind, slots, sockets, and per fate the count and the lifetime p50 / p90 / max in seconds. */
    JsonObject toJson() {
        JsonObject out = new JsonObject();
        long sockets = 0;
        Map<String, Long> totals = new TreeMap<>();
        for (Map.Entry<Kind, PerKind> e : kinds.entrySet()) {
            PerKind p = e.getValue();
            JsonObject fates = new JsonObject();
            long counted = 0;
            for (Map.Entry<String, Durations> f : new TreeMap<>(p.fates).entrySet()) {
                Durations d = f.getValue();
                counted += d.count;
                totals.merge(f.getKey(), (long) d.count, Long::sum);
                fates.put(f.getKey(), new JsonObject().put("count", d.count).put("open_s_p50", d.quantileSeconds(0.5))
                        .put("open_s_p90", d.quantileSeconds(0.9)).put("open_s_max", d.quantileSeconds(1.0)));
            }
            sockets += p.sockets;
            JsonObject kind = new JsonObject().put("slots", p.slots).put("sockets", p.sockets).put("upgraded", p.upgraded)
                    .put("fates_counted", counted).put("fates", fates);
            if (e.getKey() == Kind.FLOOD) kind.put("messages_sent", p.messagesSent);
            out.put(e.getKey().key(), kind);
        }
        JsonObject all = new JsonObject().put("sockets", sockets);
        JsonObject byFate = new JsonObject();
        totals.forEach(byFate::put);
        return new JsonObject().put("kinds", out).put("total", all.put("fates", byFate));
    }

    private static final class PerKind {
        final int slots;
        long sockets;
        long upgraded;
        long messagesSent;
        final Map<String, Durations> fates = new TreeMap<>();

        PerKind(int slots) {
            this.slots = slots;
        }
    }

    /** Lifetimes in milliseconds, kept whole: a run has at most some hundred thousand sockets. */
    private static final class Durations {
        long[] millis = new long[16];
        int count;

        void add(long ms) {
            if (count == millis.length) millis = Arrays.copyOf(millis, count * 2);
            millis[count++] = ms;
        }

        double quantileSeconds(double q) {
            long[] sorted = Arrays.copyOf(millis, count);
            Arrays.sort(sorted);
            int i = (int) Math.min(count - 1, Math.max(0, Math.ceil(q * count) - 1));
            return Math.round(sorted[i] / 100.0) / 10.0;
        }
    }
}
