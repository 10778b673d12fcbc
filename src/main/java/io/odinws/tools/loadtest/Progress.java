package io.odinws.tools.loadtest;

import io.vertx.core.json.JsonObject;
import java.io.PrintStream;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.HdrHistogram.Histogram;

/**
 * The once-a-second progress: a sample of one process (or the sum of several), printed as one line to
 * stderr, or sent as one JSON line by a child process to its parent.
 */
final class Progress {
    /** Counters are cumulative; the histograms cover the last interval only. dropped/back: --drop-fraction clients. */
    record Sample(double elapsedSeconds, long open, long target, long subscribed, long received, long errors,
                  Map<String, Long> closes, Histogram producer, Histogram server, long dropped, long back) {}

    private final PrintStream out;
    private long lastReceived;
    private double lastElapsed;

    Progress(PrintStream out) {
        this.out = out;
    }

    /** Prints {@code s} as a human-readable line (deliveries/s from the previous sample). */
    void print(Sample s) {
        double dt = s.elapsedSeconds() - lastElapsed;
        long rate = dt <= 0 ? 0 : Math.round((s.received() - lastReceived) / dt);
        lastReceived = s.received();
        lastElapsed = s.elapsedSeconds();
        out.printf("[%5.0fs] open %d/%d acks %d recv/s %d e2e p50/p99 %s/%s ms srv p50/p99 %s/%s ms errors %d closes %s%s%n",
                s.elapsedSeconds(), s.open(), s.target(), s.subscribed(), rate,
                pct(s.producer(), 50), pct(s.producer(), 99), pct(s.server(), 50), pct(s.server(), 99),
                s.errors(), s.closes().isEmpty() ? "{}" : s.closes().toString(),
                s.dropped() > 0 ? " dropped " + s.dropped() + " back " + s.back() : "");
        out.flush();
    }

    private static String pct(Histogram h, double p) {
        return h.getTotalCount() == 0 ? "-" : String.format("%.1f", h.getValueAtPercentile(p) / 1000.0);
    }

    static JsonObject toJson(Sample s) {
        JsonObject c = new JsonObject();
        s.closes().forEach(c::put);
        return new JsonObject()
                .put("kind", "progress")
                .put("elapsed_s", s.elapsedSeconds())
                .put("open", s.open())
                .put("target", s.target())
                .put("subscribed", s.subscribed())
                .put("received", s.received())
                .put("errors", s.errors())
                .put("closes", c)
                .put("dropped", s.dropped())
                .put("back", s.back())
                .put("producer", Report.encode(s.producer()))
                .put("server", Report.encode(s.server()));
    }

    static Sample fromJson(JsonObject n) {
        Map<String, Long> closes = new TreeMap<>();
        n.getJsonObject("closes", new JsonObject()).forEach(e -> closes.put(e.getKey(), ((Number) e.getValue()).longValue()));
        return new Sample(n.getDouble("elapsed_s", 0.0), n.getLong("open", 0L), n.getLong("target", 0L),
                n.getLong("subscribed", 0L), n.getLong("received", 0L), n.getLong("errors", 0L), closes,
                Report.decode(n.getString("producer")), Report.decode(n.getString("server")),
                n.getLong("dropped", 0L), n.getLong("back", 0L));
    }

    /** The sum of the latest samples of several processes. */
    static Sample sum(List<Sample> samples, double elapsedSeconds, long target) {
        long open = 0, subscribed = 0, received = 0, errors = 0, dropped = 0, back = 0;
        Map<String, Long> closes = new TreeMap<>();
        Histogram producer = new Histogram(Stats.MAX_MICROS, Stats.DIGITS);
        Histogram server = new Histogram(Stats.MAX_MICROS, Stats.DIGITS);
        for (Sample s : samples) {
            open += s.open();
            subscribed += s.subscribed();
            received += s.received();
            errors += s.errors();
            dropped += s.dropped();
            back += s.back();
            s.closes().forEach((k, v) -> closes.merge(k, v, Long::sum));
            producer.add(s.producer());
            server.add(s.server());
        }
        return new Sample(elapsedSeconds, open, target, subscribed, received, errors, closes, producer, server, dropped, back);
    }
}
