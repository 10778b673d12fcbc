package io.odinws.tools.loadtest;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.zip.DataFormatException;
import org.HdrHistogram.Histogram;

/**
 * The JSON report (Vert.x JsonObject: only jackson-core is on the runtime class path): built from one
 * process's run, merged from several processes' reports, checked against the expectations, written out.
 * Histograms travel as compressed base64 so that merged percentiles are exact, not averages of percentiles.
 */
final class Report {
    /** Sections whose numbers add up across processes. */
    private static final List<String> SUMMED = List.of("connections", "acks", "messages", "closes_by_code", "refusals_by_status", "errors", "auth");
    /**
     * Server to client over the whole run, when a {@code measure} (--control-stdin) restarted the latency totals:
     * what the window left out stays on record beside it.
     */
    static final String WHOLE_RUN = "server_to_client_whole_run";
    /** The counts of the drop section (the other members are settings, or derived). */
    private static final List<String> DROP_COUNTS = List.of("selected", "dropped", "back", "recovered", "not_recovered");

    /** One expectation's verdict. */
    record Check(String option, boolean ok, String message) {}

    private Report() {
    }

    /** Everything one process measured. */
    record Local(LoadTestOptions options, Stats stats, long startedAtMillis, double elapsedSeconds, int heldAtEnd,
                 double rampSeconds, LossCalculator.Loss loss, String lossSource) {}

    static JsonObject build(Local l) {
        LoadTestOptions o = l.options();
        Stats s = l.stats();
        JsonObject r = new JsonObject();
        r.put("tool", "odin-ws loadtest");
        r.put("url", o.url().toString());
        r.put("started_at", Instant.ofEpochMilli(l.startedAtMillis()).toString());
        r.put("elapsed_s", round(l.elapsedSeconds(), 3));
        r.put("processes", 1);
        r.put("config", new JsonObject()
                .put("subscribe", o.subscribe().toString())
                .put("channels", o.channels().size())
                .put("ramp_per_s", o.rampPerSecond())
                .put("heartbeat_s", o.heartbeatSeconds())
                .put("duration_s", o.durationSeconds())
                .put("recover", o.recover())
                .put("slow_fraction", o.slowFraction())
                .put("seed", o.seed())
                .put("private_channels", String.join(",", o.privateChannels()))
                .put("auth", o.auth() == null ? null : new JsonObject()
                        .put("algorithm", o.auth().algorithm())
                        .put("present", o.auth().present().name().toLowerCase(java.util.Locale.ROOT))
                        .put("users", o.auth().users())
                        .put("private_categories", String.join(",", o.auth().privateOwners().keySet()))));
        r.put("connections", new JsonObject()
                .put("target", (long) o.connections())
                .put("attempted", s.attempted.sum())
                .put("opened", s.opened.sum())
                .put("failed", s.attempted.sum() - s.opened.sum())
                .put("subscribed", s.subscribed.sum())
                .put("held_at_end", (long) l.heldAtEnd())
                .put("slow", s.slow.sum())
                .put("reconnect_attempts", s.reconnectAttempts.sum())
                .put("reconnected", s.reconnected.sum())
                .put("retry_after_waits", s.retryAfterWaits.sum()));
        r.put("ramp_s", round(l.rampSeconds(), 3));
        r.put("acks", counts(Stats.snapshot(s.acks)));
        r.put("messages", new JsonObject()
                .put("received", s.received.sum())
                .put("live", s.live.sum())
                .put("replayed", s.replayed.sum())
                .put("bytes", s.bytes.sum())
                .put("slow_received", s.slowReceived.sum())
                .put("slow_bytes", s.slowBytes.sum())
                .put("slow_skipped", s.slowSkipped.sum())
                .put("slow_behind_ms_sum", s.slowBehindMillis.sum())
                .put("wire_bytes", s.wireBytes.sum())
                .put("latency_left_out", s.latencyLeftOut())
                .put("duplicates", s.duplicates.sum())
                .put("out_of_order", s.outOfOrder.sum())
                .put("beyond_seq_window", s.beyondSeqWindow.sum())
                .put("unexpected_channel", s.unexpectedChannel.sum())
                .put("unparsable", s.unparsable.sum())
                .put("without_event_timestamp", s.noEventTimestamp.sum())
                .put("clock_skew_samples", s.clockSkew.sum())
                .put("heartbeats_sent", s.heartbeatsSent.sum())
                .put("order_by_channel", orderByChannel(o, s)));
        r.put("closes_by_code", counts(Stats.snapshot(s.closes)));
        r.put("refusals_by_status", counts(Stats.snapshot(s.refusals)));
        long authFailed = 0;
        for (var v : s.authFailures.values()) authFailed += v.sum();
        // counts only (summed across processes); the settings are in config.auth
        r.put("auth", new JsonObject().put("acks", s.authOk.sum()).put("failed", authFailed)
                .put("failures_by_code", counts(Stats.snapshot(s.authFailures))));
        r.put("errors", new JsonObject().put("total", s.errorsTotal.sum()).put("by_kind", counts(Stats.snapshot(s.errors))));
        JsonObject dropHist = null;
        if (o.dropFraction() > 0) {
            long at = s.dropAtMillis;
            r.put("drop", new JsonObject()
                    .put("fraction", o.dropFraction())
                    .put("after_s", o.dropAfterSeconds())
                    .put("dropped_at_s", at < 0 ? null : round(at / 1000.0, 3))
                    .put("selected", s.dropSelected.sum())
                    .put("dropped", s.dropped.sum())
                    .put("back", s.dropBack.sum())
                    .put("recovered", s.dropRecovered.sum())
                    .put("not_recovered", s.dropNotRecovered.sum()));
            dropHist = new JsonObject().put("drop_to_back", encode(s.dropToBack)).put("drop_to_recovered", encode(s.dropToRecovered));
        } else {
            r.putNull("drop");
        }
        if (l.loss() == null) {
            r.putNull("loss");
        } else {
            LossCalculator.Loss x = l.loss();
            r.put("loss", new JsonObject()
                    .put("expected", x.expected())
                    .put("missing", x.missing())
                    .put("clients_checked", x.clientsChecked())
                    .put("channels_checked", x.channelsChecked())
                    .put("clients_with_loss", x.clientsWithLoss())
                    .put("private_expected", x.privateExpected())
                    .put("leaked", x.leaked())
                    .put("clients_with_leaks", x.clientsWithLeaks())
                    .put("grace_ms", o.lossGraceMillis())
                    .put("source", l.lossSource()));
        }
        JsonObject hist = new JsonObject()
                .put("producer_to_client", encode(s.producerTotal))
                .put("server_to_client", encode(s.serverTotal));
        Histogram whole = s.serverWholeRun();
        if (whole != null) hist.put(WHOLE_RUN, encode(whole));
        if (dropHist != null) hist.mergeIn(dropHist);
        r.put("histograms_us", hist);
        derive(r);
        return r;
    }

    /** Adds up several processes' reports. */
    static JsonObject merge(List<JsonObject> parts) {
        JsonObject r = parts.get(0).copy();
        double elapsed = 0;
        double ramp = 0;
        for (JsonObject p : parts) {
            elapsed = Math.max(elapsed, p.getDouble("elapsed_s", 0.0));
            ramp = Math.max(ramp, p.getDouble("ramp_s", 0.0));
        }
        r.put("elapsed_s", elapsed);
        r.put("ramp_s", ramp);
        r.put("processes", parts.size());
        for (String section : SUMMED) r.put(section, new JsonObject());
        Histogram producer = new Histogram(Stats.MAX_MICROS, Stats.DIGITS);
        Histogram server = new Histogram(Stats.MAX_MICROS, Stats.DIGITS);
        Histogram toBack = new Histogram(Stats.MAX_MICROS, Stats.DIGITS);
        Histogram toRecovered = new Histogram(Stats.MAX_MICROS, Stats.DIGITS);
        Histogram whole = new Histogram(Stats.MAX_MICROS, Stats.DIGITS);
        JsonObject drop = r.getValue("drop") instanceof JsonObject d ? d.copy() : null;
        if (drop != null) {
            for (String k : DROP_COUNTS) drop.put(k, 0L);
            drop.putNull("dropped_at_s");
        }
        boolean lossKnown = true;
        JsonObject loss = new JsonObject();
        JsonArray per = new JsonArray();
        for (JsonObject p : parts) {
            for (String section : SUMMED) addNumbers(r.getJsonObject(section), p.getJsonObject(section, new JsonObject()));
            JsonObject h = p.getJsonObject("histograms_us", new JsonObject());
            producer.add(decode(h.getString("producer_to_client")));
            server.add(decode(h.getString("server_to_client")));
            // a process without a measure contributes its totals, which then are its whole run
            whole.add(decode(h.getString(WHOLE_RUN, h.getString("server_to_client"))));
            if (drop != null && p.getValue("drop") instanceof JsonObject d) {
                for (String k : DROP_COUNTS) drop.put(k, drop.getLong(k) + d.getLong(k, 0L));
                // each process drops its clients at its own tick: the latest is when the whole batch was down
                Double at = d.getDouble("dropped_at_s");
                Double max = drop.getDouble("dropped_at_s");
                if (at != null && (max == null || at > max)) drop.put("dropped_at_s", at);
                toBack.add(decode(h.getString("drop_to_back")));
                toRecovered.add(decode(h.getString("drop_to_recovered")));
            }
            JsonObject l = p.getValue("loss") instanceof JsonObject lo ? lo : null;
            if (l == null) {
                lossKnown = false;
            } else {
                addNumbers(loss, l);
                loss.put("grace_ms", l.getLong("grace_ms"));
                loss.put("source", l.getString("source"));
            }
            JsonObject c = p.getJsonObject("connections", new JsonObject());
            per.add(new JsonObject()
                    .put("target", c.getLong("target", 0L))
                    .put("held_at_end", c.getLong("held_at_end", 0L))
                    .put("received", p.getJsonObject("messages", new JsonObject()).getLong("received", 0L)));
        }
        if (lossKnown) r.put("loss", loss);
        else r.putNull("loss");
        r.put("per_process", per);
        JsonObject hist = new JsonObject().put("producer_to_client", encode(producer)).put("server_to_client", encode(server));
        if (parts.stream().anyMatch(p -> p.getJsonObject("histograms_us", new JsonObject()).containsKey(WHOLE_RUN))) {
            hist.put(WHOLE_RUN, encode(whole));
        }
        if (drop != null) {
            r.put("drop", drop);
            hist.put("drop_to_back", encode(toBack)).put("drop_to_recovered", encode(toRecovered));
        }
        r.put("histograms_us", hist);
        derive(r);
        return r;
    }

    /** Recomputes the fields that are not sums (rates, percentiles, the loss fraction) and orders the sections. */
    private static void derive(JsonObject r) {
        double elapsed = Math.max(1e-3, r.getDouble("elapsed_s"));
        JsonObject m = r.getJsonObject("messages");
        m.put("rate_per_s", round(m.getLong("received") / elapsed, 1));
        JsonObject hist = (JsonObject) r.remove("histograms_us");
        r.remove("latency_ms");
        Object loss = r.remove("loss");
        r.put("latency_ms", new JsonObject()
                .put("producer_to_client", percentiles(decode(hist.getString("producer_to_client"))))
                .put("server_to_client", percentiles(decode(hist.getString("server_to_client")))));
        if (hist.containsKey(WHOLE_RUN)) {
            r.getJsonObject("latency_ms").put(WHOLE_RUN, percentiles(decode(hist.getString(WHOLE_RUN))));
        }
        if (loss instanceof JsonObject l) {
            long expected = l.getLong("expected");
            l.put("fraction", expected == 0 ? 0.0 : (double) l.getLong("missing") / expected);
            r.put("loss", l);
        } else {
            r.putNull("loss");
        }
        if (r.getValue("drop") instanceof JsonObject d) deriveDrop(d, hist);
        r.put("histograms_us", hist); // the blobs last, after the readable part
    }

    /**
     * The drop's times, in ms from the drop: until the last client was back / recovered (null unless every
     * dropped client was), and the median client.
     */
    private static void deriveDrop(JsonObject d, JsonObject hist) {
        Histogram back = decode(hist.getString("drop_to_back"));
        Histogram recovered = decode(hist.getString("drop_to_recovered"));
        long dropped = d.getLong("dropped");
        boolean allBack = dropped > 0 && d.getLong("back") == dropped;
        boolean allRecovered = dropped > 0 && d.getLong("recovered") == dropped;
        d.put("all_back_ms", allBack ? ms(back.getMaxValue()) : null);
        d.put("all_recovered_ms", allRecovered ? ms(recovered.getMaxValue()) : null);
        d.put("p50_back_ms", back.getTotalCount() == 0 ? null : ms(back.getValueAtPercentile(50)));
        d.put("p50_recovered_ms", recovered.getTotalCount() == 0 ? null : ms(recovered.getValueAtPercentile(50)));
    }

    private static JsonObject percentiles(Histogram h) {
        JsonObject n = new JsonObject().put("count", h.getTotalCount());
        boolean empty = h.getTotalCount() == 0;
        n.put("p50", empty ? null : ms(h.getValueAtPercentile(50)));
        n.put("p90", empty ? null : ms(h.getValueAtPercentile(90)));
        n.put("p99", empty ? null : ms(h.getValueAtPercentile(99)));
        n.put("p99_9", empty ? null : ms(h.getValueAtPercentile(99.9)));
        n.put("max", empty ? null : ms(h.getMaxValue()));
        n.put("mean", empty ? null : round(h.getMean() / 1000.0, 3));
        return n;
    }

    /** Verdicts of the expectations that were asked for. */
    static List<Check> check(LoadTestOptions o, JsonObject r) {
        List<Check> out = new ArrayList<>();
        if (o.expectConnections() >= 0) {
            long held = r.getJsonObject("connections").getLong("held_at_end");
            out.add(new Check("--expect-connections", held >= o.expectConnections(), String.format(
                    "--expect-connections %d: %d clients subscribed and held at the end", o.expectConnections(), held)));
        }
        if (!Double.isNaN(o.maxP99Millis())) {
            JsonObject lat = r.getJsonObject("latency_ms");
            String which = lat.getJsonObject("producer_to_client").getLong("count") > 0 ? "producer_to_client" : "server_to_client";
            Double p99 = lat.getJsonObject(which).getDouble("p99");
            if (p99 != null) {
                out.add(new Check("--max-p99-ms", p99 <= o.maxP99Millis(), String.format(
                        "--max-p99-ms %s: %s p99 = %s ms", num(o.maxP99Millis()), which, num(p99))));
            } else {
                out.add(new Check("--max-p99-ms", false, "--max-p99-ms " + num(o.maxP99Millis()) + ": no latency samples"));
            }
        }
        if (!Double.isNaN(o.maxLoss())) {
            if (!(r.getValue("loss") instanceof JsonObject loss)) {
                out.add(new Check("--max-loss", false, "--max-loss " + num(o.maxLoss()) + ": loss unknown (needs --kafka)"));
            } else {
                double f = loss.getDouble("fraction");
                out.add(new Check("--max-loss", f <= o.maxLoss(), String.format("--max-loss %s: %d of %d expected deliveries missing (%s)",
                        num(o.maxLoss()), loss.getLong("missing"), loss.getLong("expected"), num(f))));
            }
        }
        if (o.auth() != null && !o.auth().privateOwners().isEmpty() && r.getValue("loss") instanceof JsonObject loss) {
            long leaked = loss.getLong("leaked", 0L);
            out.add(new Check("--auth", leaked == 0, String.format("private records: %d delivered to a client that is not "
                    + "an owner (LEAK), in %d clients", leaked, loss.getLong("clients_with_leaks", 0L))));
        }
        return out;
    }

    /** Adds the verdicts and the exit status (0, or 1 if one failed) to the report; returns the status. */
    static int conclude(JsonObject r, List<Check> checks) {
        JsonArray a = new JsonArray();
        int status = 0;
        for (Check c : checks) {
            a.add(new JsonObject().put("option", c.option()).put("ok", c.ok()).put("message", c.message()));
            if (!c.ok()) status = 1;
        }
        Object hist = r.remove("histograms_us");
        r.put("expectations", a);
        r.put("exit_status", status);
        r.put("histograms_us", hist);
        return status;
    }

    static void writeFile(String file, JsonObject r) throws IOException {
        Files.writeString(Path.of(file), r.encodePrettily() + "\n");
    }

    static String encode(Histogram h) {
        ByteBuffer buf = ByteBuffer.allocate(h.getNeededByteBufferCapacity());
        int n = h.encodeIntoCompressedByteBuffer(buf);
        return Base64.getEncoder().encodeToString(java.util.Arrays.copyOf(buf.array(), n));
    }

    static Histogram decode(String base64) {
        if (base64 == null || base64.isEmpty()) return new Histogram(Stats.MAX_MICROS, Stats.DIGITS);
        try {
            return Histogram.decodeFromCompressedByteBuffer(ByteBuffer.wrap(Base64.getDecoder().decode(base64)), Stats.MAX_MICROS);
        } catch (DataFormatException | IllegalArgumentException e) {
            throw new IllegalArgumentException("bad histogram in report: " + e.getMessage(), e);
        }
    }

    /** Adds the integers of {@code from} into {@code into}, recursively; other values are left alone. */
    private static void addNumbers(JsonObject into, JsonObject from) {
        for (Map.Entry<String, Object> e : from) {
            Object v = e.getValue();
            if (v instanceof JsonObject sub) {
                JsonObject target = into.getValue(e.getKey()) instanceof JsonObject t ? t : new JsonObject();
                into.put(e.getKey(), target);
                addNumbers(target, sub);
            } else if (v instanceof Integer || v instanceof Long) {
                Object old = into.getValue(e.getKey());
                into.put(e.getKey(), (old instanceof Number n ? n.longValue() : 0L) + ((Number) v).longValue());
            }
        }
    }

    /** Channels with duplicates or out-of-order arrivals (others omitted): {"BTC.trade":{"duplicates":1,"out_of_order":0}}. */
    private static JsonObject orderByChannel(LoadTestOptions o, Stats s) {
        JsonObject n = new JsonObject();
        for (int i = 0; i < o.channels().size(); i++) {
            long d = s.duplicatesByChannel.get(i);
            long x = s.outOfOrderByChannel.get(i);
            if (d > 0 || x > 0) n.put(o.channels().get(i), new JsonObject().put("duplicates", d).put("out_of_order", x));
        }
        return n;
    }

    private static JsonObject counts(Map<String, Long> counts) {
        JsonObject n = new JsonObject();
        counts.forEach(n::put);
        return n;
    }

    private static double ms(long micros) {
        return round(micros / 1000.0, 3);
    }

    static double round(double v, int decimals) {
        double f = Math.pow(10, decimals);
        return Math.round(v * f) / f;
    }

    private static String num(double d) {
        return d == Math.rint(d) && Math.abs(d) < 1e15 ? String.valueOf((long) d) : String.valueOf(round(d, 6));
    }
}
