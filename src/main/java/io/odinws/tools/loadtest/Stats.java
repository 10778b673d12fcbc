package io.odinws.tools.loadtest;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;
import org.HdrHistogram.SynchronizedHistogram;

/**
 * Counters and latency histograms of one client process. Event-loop threads record (LongAdders, and
 * HdrHistogram {@link Recorder}s, which are wait-free for writers); the control thread takes an interval
 * histogram every second for the progress line and folds it into the run totals.
 */
final class Stats {
    /** Latencies in microseconds, 1 µs .. 1 h, 3 significant digits. */
    static final long MAX_MICROS = 3_600_000_000L;
    static final int DIGITS = 3;

    final LongAdder attempted = new LongAdder();       // initial connection attempts (one per client)
    final LongAdder opened = new LongAdder();          // clients whose first handshake succeeded
    final LongAdder failed = new LongAdder();          // clients that never got a WebSocket open
    final LongAdder reconnectAttempts = new LongAdder();
    final LongAdder reconnected = new LongAdder();     // reconnect attempts that got a WebSocket open
    final LongAdder subscribed = new LongAdder();      // clients that got a first subscription_ack
    final LongAdder slow = new LongAdder();            // clients that stopped reading (or read at --slow-read-rate)
    final LongAdder slowReceived = new LongAdder();    // --slow-read-rate: data frames the slow clients read
    final LongAdder slowBytes = new LongAdder();
    final LongAdder slowSkipped = new LongAdder();     // the "skipped" counts of those frames (conflation)
    final LongAdder slowBehindMillis = new LongAdder(); // sum over those frames of client time - server ts
    final LongAdder received = new LongAdder();        // data frames (with seq)
    final LongAdder live = new LongAdder();
    final LongAdder replayed = new LongAdder();
    final LongAdder wireBytes = new LongAdder();       // bytes read from the sockets (compressed ones before inflation)
    final LongAdder bytes = new LongAdder();           // payload bytes of all text frames
    final LongAdder duplicates = new LongAdder();
    final LongAdder outOfOrder = new LongAdder();
    final LongAdder beyondSeqWindow = new LongAdder();
    final LongAdder unexpectedChannel = new LongAdder();
    final LongAdder unparsable = new LongAdder();
    final LongAdder noEventTimestamp = new LongAdder();
    final LongAdder clockSkew = new LongAdder();       // negative latencies, recorded as 0
    final LongAdder heartbeatsSent = new LongAdder();
    final LongAdder errorsTotal = new LongAdder();
    // --drop-fraction: clients chosen, dropped, back (subscribed again), recovered or not (reconnect_ack)
    final LongAdder dropSelected = new LongAdder();
    final LongAdder dropped = new LongAdder();
    final LongAdder dropBack = new LongAdder();
    final LongAdder dropRecovered = new LongAdder();
    final LongAdder dropNotRecovered = new LongAdder();
    /** Microseconds from the drop until each client was back / recovered; one sample per client, so locking is fine. */
    final Histogram dropToBack = new SynchronizedHistogram(MAX_MICROS, DIGITS);
    final Histogram dropToRecovered = new SynchronizedHistogram(MAX_MICROS, DIGITS);
    /** When the drop happened, milliseconds from the start of the run; -1 before. */
    volatile long dropAtMillis = -1;
    final AtomicInteger open = new AtomicInteger();    // WebSocket sessions open now
    final AtomicInteger held = new AtomicInteger();    // clients open now and subscribed
    final Map<String, LongAdder> acks = new ConcurrentHashMap<>();
    final Map<String, LongAdder> errors = new ConcurrentHashMap<>();
    final Map<Integer, LongAdder> closes = new ConcurrentHashMap<>();
    /** Upgrades the server refused, by HTTP status (429, 503, 403...). */
    final Map<Integer, LongAdder> refusals = new ConcurrentHashMap<>();
    final LongAdder retryAfterWaits = new LongAdder(); // reconnects delayed by a refusal's Retry-After
    /** --auth-present message: auth_ack replies, and failures by auth_error code (or error_<code>, no_auth_ack). */
    final LongAdder authOk = new LongAdder();
    final Map<String, LongAdder> authFailures = new ConcurrentHashMap<>();

    /** Per channel-table index: duplicates and out-of-order arrivals. */
    final AtomicLongArray duplicatesByChannel;
    final AtomicLongArray outOfOrderByChannel;

    final Recorder producerToClient = new Recorder(MAX_MICROS, DIGITS);
    final Recorder serverToClient = new Recorder(MAX_MICROS, DIGITS);
    /** Totals; touched by the control thread only. */
    final Histogram producerTotal = new Histogram(MAX_MICROS, DIGITS);
    final Histogram serverTotal = new Histogram(MAX_MICROS, DIGITS);
    /** The server-to-client samples a {@code measure} or a {@code hold} left out of the totals; control thread only. */
    private final Histogram serverLeftOut = new Histogram(MAX_MICROS, DIGITS);
    private Histogram producerInterval;
    private Histogram serverInterval;
    /** Set by {@link #measureFromNextSecond} (the stdin reader), taken by the control thread. */
    private volatile boolean measureRequested;
    /** Set by {@link #holdAfterThisSecond} (the stdin reader), taken by the control thread. */
    private volatile boolean holdRequested;
    /** After a {@code hold}: the intervals go to what the totals leave out; control thread only. */
    private boolean holding;
    /** Deliveries whose latency the totals left out at a {@code measure} or after a {@code hold}; control thread only. */
    private long latencyLeftOut;

    Stats(int channels) {
        duplicatesByChannel = new AtomicLongArray(channels);
        outOfOrderByChannel = new AtomicLongArray(channels);
    }

    void duplicate(int channel) {
        duplicates.increment();
        duplicatesByChannel.incrementAndGet(channel);
    }

    void outOfOrder(int channel, boolean beyondWindow) {
        outOfOrder.increment();
        outOfOrderByChannel.incrementAndGet(channel);
        if (beyondWindow) beyondSeqWindow.increment();
    }

    void error(String kind) {
        errorsTotal.increment();
        errors.computeIfAbsent(kind, k -> new LongAdder()).increment();
    }

    /** An authentication that did not succeed; also counted among the errors as auth_failed_<code>. */
    void authFailure(String code) {
        authFailures.computeIfAbsent(code, k -> new LongAdder()).increment();
        error("auth_failed_" + code);
    }

    void ack(String type) {
        acks.computeIfAbsent(type, k -> new LongAdder()).increment();
    }

    void refused(int status) {
        refusals.computeIfAbsent(status, k -> new LongAdder()).increment();
    }

    void close(int code) {
        closes.computeIfAbsent(code, k -> new LongAdder()).increment();
    }

    static void record(Recorder r, long micros, LongAdder skew) {
        if (micros < 0) {
            skew.increment();
            micros = 0;
        }
        r.recordValue(Math.min(micros, MAX_MICROS));
    }

    /** Control thread: the histograms of the last interval, also added to the totals. */
    Histogram[] interval() {
        producerInterval = producerToClient.getIntervalHistogram(producerInterval);
        serverInterval = serverToClient.getIntervalHistogram(serverInterval);
        if (holding) {
            latencyLeftOut += producerInterval.getTotalCount();
            serverLeftOut.add(serverInterval);
        } else {
            producerTotal.add(producerInterval);
            serverTotal.add(serverInterval);
        }
        if (measureRequested) {
            measureRequested = false;
            holding = false;
            latencyLeftOut += producerTotal.getTotalCount();
            serverLeftOut.add(serverTotal);
            producerTotal.reset();
            serverTotal.reset();
        }
        if (holdRequested) {
            holdRequested = false;
            holding = true;
        }
        return new Histogram[] {producerInterval, serverInterval};
    }

    /** The {@code measure} command: the latency totals start again at the next interval. Any thread. */
    void measureFromNextSecond() {
        measureRequested = true;
    }

    /** The {@code hold} command: the latency totals end with the current interval. Any thread. */
    void holdAfterThisSecond() {
        holdRequested = true;
    }

    long latencyLeftOut() {
        return latencyLeftOut;
    }

    /** Server to client over the whole run, what a {@code measure} or a {@code hold} left out included; null without either. */
    Histogram serverWholeRun() {
        if (latencyLeftOut == 0) return null;
        Histogram h = serverLeftOut.copy();
        h.add(serverTotal);
        return h;
    }

    static Map<String, Long> snapshot(Map<?, LongAdder> m) {
        Map<String, Long> out = new TreeMap<>();
        m.forEach((k, v) -> out.put(String.valueOf(k), v.sum()));
        return out;
    }
}
