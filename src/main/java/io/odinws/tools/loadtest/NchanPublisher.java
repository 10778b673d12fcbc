package io.odinws.tools.loadtest;

import io.netty.channel.ConnectTimeoutException;
import io.odinws.cli.Main;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClosedException;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.Histogram;

/**
 * Publishes to nchan at a fixed rate, open loop: message k is due at start + k/rate, whatever the previous
 * POSTs are doing (up to {@link #MAX_IN_FLIGHT} unanswered; past that it waits, and the lag is reported).
 * Each message is one {@code POST <base>/pub/<channel>}, channels round-robin, whose body is the envelope
 * odin-ws sends its clients: {@code seq} counts per channel from 1, {@code ts} and the record's
 * {@code data.timestamp} are the publish time (Unix ms). nchan forwards the body unchanged as a text frame, so
 * the load generator measures nchan's latency as it measures odin-ws's.
 *
 * <p>The POSTs are pipelined on one keep-alive HTTP/1.1 connection (Vert.x's HTTP client, a pool of one
 * connection, all requests issued from one context so that they are written in publishing order): open loop, yet
 * nchan receives the messages in publishing order, so per-channel order at the subscribers is nchan's, not the
 * network's. If the connection breaks, the unanswered POSTs count as failed and the next message opens a new
 * connection.
 *
 * <p>Used by {@code loadtest --protocol nchan --nchan-publish URL}, or on its own:
 * {@code java -cp odin-ws-tools.jar io.odinws.tools.loadtest.NchanPublisher --help} ({@link NchanPublishCommand}).
 */
public final class NchanPublisher {
    static final int MAX_IN_FLIGHT = 1024;

    private final List<String> channels;
    private final RequestOptions[] requests; // POST <prefix>/<channel>, per channel
    private final int rate;
    private final long count;
    private final long[] nextSeq;
    private final Semaphore inFlight = new Semaphore(MAX_IN_FLIGHT);
    private volatile boolean stopRequested;
    private volatile long drainMillis = 30_000;
    /** Set once the drain wait is over: POSTs still unanswered then may well have been published. */
    private volatile boolean closedAtEnd;

    private final LongAdder sent = new LongAdder();
    private final LongAdder created = new LongAdder();   // 201: at least one subscriber got it
    private final LongAdder accepted = new LongAdder();  // 202: published, no subscriber
    private final LongAdder failed = new LongAdder();
    private final Map<String, LongAdder> errors = new ConcurrentHashMap<>();
    private final AtomicLong maxLagMicros = new AtomicLong();
    private final Histogram postMicros = new Histogram(Stats.MAX_MICROS, Stats.DIGITS);
    private volatile double elapsedSeconds;

    /**
     * @param base     publisher base URL, see {@link NchanOptions#publisherUri}
     * @param channels channel ids ({@link NchanOptions#CHANNEL_ID}), published to round-robin
     * @param rate     messages per second, all channels together
     * @param count    total messages to publish; 0 = until the deadline or {@link #stop()}
     */
    public NchanPublisher(URI base, List<String> channels, int rate, long count) {
        if (channels.isEmpty()) throw new IllegalArgumentException("nchan publisher: no channels");
        if (rate < 1) throw new IllegalArgumentException("nchan publisher: rate must be >= 1");
        this.channels = List.copyOf(channels);
        this.rate = rate;
        this.count = count;
        this.nextSeq = new long[channels.size()];
        String host = base.getHost().startsWith("[") ? base.getHost().substring(1, base.getHost().length() - 1) : base.getHost();
        int port = base.getPort() == -1 ? 80 : base.getPort();
        this.requests = new RequestOptions[channels.size()];
        for (int i = 0; i < channels.size(); i++) {
            URI u = NchanOptions.publisherUri(base, channels.get(i));
            requests[i] = new RequestOptions().setMethod(HttpMethod.POST).setHost(host).setPort(port)
                    .setURI(u.getRawPath() + (u.getRawQuery() == null ? "" : "?" + u.getRawQuery()))
                    // a text type: nchan sends text frames (application/octet-stream would make them binary)
                    .putHeader(HttpHeaders.CONTENT_TYPE, "application/json");
        }
    }

    /** The message body: the odin-ws envelope, with the publish time as both {@code ts} and the event's {@code timestamp}. */
    static String body(String channel, long seq, long nowMillis) {
        return new JsonObject().put("seq", seq).put("ts", nowMillis).put("type", "price:update").put("priority", 1)
                .put("channel", channel)
                .put("data", new JsonObject().put("type", "TRADE_EXECUTED").put("timestamp", nowMillis)
                        .put("data", new JsonObject().put("price", 42.17).put("amount", 512.3).put("side", "buy")
                                .put("source", "nchan-bench")))
                .encode();
    }

    /** How long {@link #run} waits for unanswered POSTs at the end. */
    void drainMillis(long millis) {
        drainMillis = millis;
    }

    /** Ends {@link #run} early; safe from any thread. */
    public void stop() {
        stopRequested = true;
    }

    /**
     * Publishes until {@code count} messages are sent, {@code deadlineNanos} (System.nanoTime) passes or
     * {@link #stop()} is called, then waits (up to 30 s, or {@link #drainMillis(long)}) for the outstanding
     * answers and closes the connection (a POST still unanswered then counts as failed).
     */
    public void run(long deadlineNanos) throws InterruptedException {
        // One event loop: the client's one context writes the requests in the order they are handed to it.
        Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1).setWorkerPoolSize(1));
        HttpClient client = vertx.createHttpClient(new HttpClientOptions().setKeepAlive(true).setPipelining(true)
                .setPipeliningLimit(MAX_IN_FLIGHT).setTcpNoDelay(true).setConnectTimeout(5_000),
                new PoolOptions().setHttp1MaxSize(1));
        Context context = vertx.getOrCreateContext();
        long start = System.nanoTime();
        long k = 0;
        int next = 0;
        try {
            while (!stopRequested && (count == 0 || k < count)) {
                long due = start + (long) (k * 1e9 / rate);
                long now = System.nanoTime();
                if (now - deadlineNanos >= 0) break;
                if (due - now > 0) {
                    LockSupport.parkNanos(Math.min(due - now, deadlineNanos - now));
                    continue;
                }
                long lag = (now - due) / 1000;
                if (lag > maxLagMicros.get()) maxLagMicros.set(lag);
                if (!inFlight.tryAcquire(Math.max(1, deadlineNanos - now), TimeUnit.NANOSECONDS)) break;
                publish(client, context, next);
                next = (next + 1) % channels.size();
                k++;
            }
            elapsedSeconds = (System.nanoTime() - start) / 1e9;
            if (inFlight.tryAcquire(MAX_IN_FLIGHT, drainMillis, TimeUnit.MILLISECONDS)) inFlight.release(MAX_IN_FLIGHT);
        } finally {
            closedAtEnd = true;
            try {
                client.close().await(5, TimeUnit.SECONDS);
                // every POST answered or failed (the accounting of the unanswered ones) before the summary
                if (inFlight.tryAcquire(MAX_IN_FLIGHT, 2, TimeUnit.SECONDS)) inFlight.release(MAX_IN_FLIGHT);
                vertx.close().await(5, TimeUnit.SECONDS);
            } catch (TimeoutException e) {
                vertx.close(); // its threads end in the background
            }
        }
    }

    private void publish(HttpClient client, Context context, int channel) {
        long seq = ++nextSeq[channel];
        Buffer body = Buffer.buffer(body(channels.get(channel), seq, System.currentTimeMillis()));
        sent.increment();
        context.runOnContext(v -> {
            long t0 = System.nanoTime();
            client.request(requests[channel])
                    .compose(req -> req.send(body))
                    .compose(resp -> resp.end().map(x -> resp.statusCode()))
                    .onComplete(status -> answered(t0, status.result(), status.cause()));
        });
    }

    /** Counts one POST's answer (its status), or its failure. */
    private void answered(long sentNanos, Integer status, Throwable failure) {
        if (failure != null) {
            failed.increment();
            error(closedAtEnd ? "unanswered_at_end" : errorKind(failure));
        } else {
            long us = (System.nanoTime() - sentNanos) / 1000;
            synchronized (postMicros) {
                postMicros.recordValue(Math.min(Math.max(us, 0), Stats.MAX_MICROS));
            }
            if (status == 201) {
                created.increment();
            } else if (status == 202) {
                accepted.increment();
            } else {
                failed.increment();
                error("http_" + status);
            }
        }
        inFlight.release();
    }

    private void error(String kind) {
        errors.computeIfAbsent(errors.size() < 32 ? kind : "other", x -> new LongAdder()).increment();
    }

    private static String errorKind(Throwable c) {
        if (c instanceof ConnectTimeoutException) return "connect_timeout";
        if (c instanceof ConnectException) return "connect_refused";
        if (c instanceof HttpClosedException) return "connection_closed";
        if (c instanceof IOException) return "io_error";
        return c.getClass().getSimpleName();
    }

    /**
     * Waits until nchan counts at least {@code expected} subscribers over the channels (GET on each channel's
     * publisher URL, {@code Accept: text/json}: {@code {"subscribers": N, ..}}, 404 = no such channel yet), or
     * until {@code deadlineNanos} or {@link #stop()}. A completed WebSocket handshake does not mean that the
     * subscriber is in its channel yet, so publishing waits for nchan's own count. Returns the last count seen.
     */
    long awaitSubscribers(URI base, long expected, long deadlineNanos) throws InterruptedException {
        java.net.http.HttpClient client = java.net.http.HttpClient.newBuilder().version(java.net.http.HttpClient.Version.HTTP_1_1)
                .connectTimeout(java.time.Duration.ofSeconds(2)).build();
        long seen = 0;
        while (!stopRequested) {
            seen = 0;
            for (String c : channels) {
                try {
                    var resp = client.send(java.net.http.HttpRequest.newBuilder(NchanOptions.publisherUri(base, c))
                            .timeout(java.time.Duration.ofSeconds(2)).header("Accept", "text/json").GET().build(),
                            java.net.http.HttpResponse.BodyHandlers.ofString());
                    if (resp.statusCode() == 200) seen += new JsonObject(resp.body()).getLong("subscribers", 0L);
                } catch (IOException | RuntimeException e) {
                    // not up yet, or not JSON: counts as none
                }
            }
            if (seen >= expected || System.nanoTime() - deadlineNanos >= 0) return seen;
            Thread.sleep(200);
        }
        return seen;
    }

    /** Messages handed to HTTP so far. */
    public long sent() {
        return sent.sum();
    }

    /** The summary: counts by outcome, POST round trips, the publishing rate reached. */
    public JsonObject summary() {
        JsonObject e = new JsonObject();
        errors.forEach((k, v) -> e.put(k, v.sum()));
        Histogram h;
        synchronized (postMicros) {
            h = postMicros.copy();
        }
        double el = elapsedSeconds;
        return new JsonObject()
                .put("channels", channels.size())
                .put("rate_target_per_s", rate)
                .put("sent", sent.sum())
                .put("rate_per_s", el > 0 ? Report.round(sent.sum() / el, 1) : 0.0)
                .put("delivered_201", created.sum())
                .put("no_subscriber_202", accepted.sum())
                .put("failed", failed.sum())
                .put("errors", e)
                .put("max_lag_ms", Report.round(maxLagMicros.get() / 1000.0, 3))
                .put("post_ms", new JsonObject()
                        .put("p50", h.getTotalCount() == 0 ? null : Report.round(h.getValueAtPercentile(50) / 1000.0, 3))
                        .put("p99", h.getTotalCount() == 0 ? null : Report.round(h.getValueAtPercentile(99) / 1000.0, 3))
                        .put("max", h.getTotalCount() == 0 ? null : Report.round(h.getMaxValue() / 1000.0, 3)));
    }

    /**
     * The publisher of a load-test run ({@code --nchan-publish}): on its own thread, starts after the
     * configured delay and stops 1 s before the run's end (so that the last messages arrive before the
     * clients close), at {@code --nchan-count}, or at {@link #stop()}. Null if the options ask for none.
     */
    static InRun startForRun(LoadTestOptions o, java.io.PrintStream err) {
        NchanOptions n = o.nchan();
        if (n == null || n.publishUrl() == null) return null;
        NchanPublisher p = new NchanPublisher(n.publishUrl(), o.channels(), n.rate(), n.count());
        p.drainMillis(5_000); // the clients close at the end of the run anyway
        long start = System.nanoTime();
        long deadline = start + TimeUnit.SECONDS.toNanos(o.durationSeconds()) - TimeUnit.SECONDS.toNanos(1);
        err.println("loadtest: nchan publisher: " + n.rate() + " msg/s over " + o.channels().size() + " channels to "
                + NchanOptions.publisherUri(n.publishUrl(), o.channels().get(0)) + (o.channels().size() > 1 ? " .." : "")
                + (n.delayMillis() < 0 ? ", once nchan counts " + o.connections() + " subscribers" : ", from " + n.delayMillis() + " ms")
                + (n.count() > 0 ? ", " + n.count() + " messages" : ""));
        Thread t = new Thread(() -> {
            try {
                if (n.delayMillis() < 0) {
                    long limit = start + TimeUnit.MILLISECONDS.toNanos(n.effectiveDelayMillis(o.connections(), o.rampPerSecond()))
                            + TimeUnit.SECONDS.toNanos(30);
                    long seen = p.awaitSubscribers(n.publishUrl(), o.connections(), Math.min(limit, deadline));
                    if (seen < o.connections() && !p.stopRequested) {
                        err.println("loadtest: nchan publisher: warning: nchan counts " + seen + " of " + o.connections()
                                + " subscribers; publishing anyway");
                    } else if (!p.stopRequested) {
                        err.println("loadtest: nchan publisher: nchan counts " + seen + " subscribers after "
                                + (System.nanoTime() - start) / 1_000_000 + " ms; publishing");
                    }
                } else {
                    long until = start + TimeUnit.MILLISECONDS.toNanos(n.delayMillis());
                    for (long wait; (wait = until - System.nanoTime()) > 0 && !p.stopRequested; ) {
                        LockSupport.parkNanos(Math.min(wait, 50_000_000L));
                    }
                }
                if (!p.stopRequested) p.run(deadline);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "nchan-publisher");
        t.setDaemon(true);
        t.start();
        return new InRun(p, t);
    }

    /** A publisher running beside a load test. */
    record InRun(NchanPublisher publisher, Thread thread) {
        /** Stops publishing, waits for the outstanding POSTs, returns the summary. */
        JsonObject finish() throws InterruptedException {
            publisher.stop();
            thread.join(TimeUnit.SECONDS.toMillis(10));
            return publisher.summary();
        }
    }

    /** Stand-alone, see {@link NchanPublishCommand}. */
    public static void main(String[] args) {
        System.exit(Main.commandLine(new NchanPublishCommand()).execute(args));
    }
}
