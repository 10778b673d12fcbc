package io.odinws.tools.loadtest;

import io.odinws.cli.Main;
import io.vertx.core.json.JsonObject;
import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
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
 * <p>The POSTs are pipelined on one keep-alive HTTP/1.1 connection (a writer that does not wait for answers,
 * a reader thread that matches them in order): open loop, yet nchan receives the messages in publishing order,
 * so per-channel order at the subscribers is nchan's, not the network's. If the connection breaks, the
 * unanswered POSTs count as failed and the next message opens a new connection.
 *
 * <p>Used by {@code loadtest --protocol nchan --nchan-publish URL}, or on its own:
 * {@code java -cp odin-ws-tools.jar io.odinws.tools.loadtest.NchanPublisher --help} ({@link NchanPublishCommand}).
 */
public final class NchanPublisher {
    static final int MAX_IN_FLIGHT = 1024;

    private final List<String> channels;
    private final byte[][] requestHeads; // "POST /pub/<channel> HTTP/1.1\r\nHost: ..\r\n..Content-Length: " per channel
    private final InetSocketAddress remote;
    private final int rate;
    private final long count;
    private final long[] nextSeq;
    private final Semaphore inFlight = new Semaphore(MAX_IN_FLIGHT);
    private volatile boolean stopRequested;
    private volatile long drainMillis = 30_000;
    private Connection conn; // publishing thread only

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
        this.remote = new InetSocketAddress(host, base.getPort() == -1 ? 80 : base.getPort());
        this.requestHeads = new byte[channels.size()][];
        for (int i = 0; i < channels.size(); i++) {
            URI u = NchanOptions.publisherUri(base, channels.get(i));
            String target = u.getRawPath() + (u.getRawQuery() == null ? "" : "?" + u.getRawQuery());
            requestHeads[i] = ("POST " + target + " HTTP/1.1\r\nHost: " + base.getRawAuthority()
                    // a text type: nchan sends text frames (application/octet-stream would make them binary)
                    + "\r\nContent-Type: application/json\r\nContent-Length: ").getBytes(StandardCharsets.US_ASCII);
        }
    }

    /** The message body: the odin-ws envelope, with the publish time as both {@code ts} and the event's {@code timestamp}. */
    static String body(String channel, long seq, long nowMillis) {
        return "{\"seq\":" + seq + ",\"ts\":" + nowMillis + ",\"type\":\"price:update\",\"priority\":1,\"channel\":\"" + channel
                + "\",\"data\":{\"type\":\"TRADE_EXECUTED\",\"timestamp\":" + nowMillis
                + ",\"data\":{\"price\":42.17,\"amount\":512.3,\"side\":\"buy\",\"source\":\"nchan-bench\"}}}";
    }

    /** The whole request for {@code body} on channel slot {@code channel}. */
    byte[] request(int channel, byte[] body) {
        byte[] head = requestHeads[channel];
        byte[] len = (body.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
        byte[] r = Arrays.copyOf(head, head.length + len.length + body.length);
        System.arraycopy(len, 0, r, head.length, len.length);
        System.arraycopy(body, 0, r, head.length + len.length, body.length);
        return r;
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
                publish(next);
                next = (next + 1) % channels.size();
                k++;
            }
            elapsedSeconds = (System.nanoTime() - start) / 1e9;
            if (inFlight.tryAcquire(MAX_IN_FLIGHT, drainMillis, TimeUnit.MILLISECONDS)) inFlight.release(MAX_IN_FLIGHT);
        } finally {
            if (conn != null) {
                conn.closedAtEnd = true;
                conn.close();
                conn.reader.join(2_000); // its last accounting (unanswered POSTs) before the summary
            }
        }
    }

    private void publish(int channel) {
        long seq = ++nextSeq[channel];
        byte[] req = request(channel, body(channels.get(channel), seq, System.currentTimeMillis()).getBytes(StandardCharsets.UTF_8));
        sent.increment();
        if (conn == null || conn.broken) {
            try {
                conn = new Connection();
            } catch (IOException e) {
                conn = null;
                failed.increment();
                error(errorKind(e));
                inFlight.release();
                return;
            }
        }
        conn.send(req);
    }

    /** One keep-alive connection: the publishing thread writes requests, a reader thread matches the answers in order. */
    private final class Connection {
        private final Socket socket = new Socket();
        private final OutputStream out;
        private final ConcurrentLinkedQueue<Long> sentAt = new ConcurrentLinkedQueue<>();
        private final Thread reader;
        private volatile boolean broken;
        /** Closed by {@link #run} after the drain wait: POSTs still unanswered may well have been published. */
        private volatile boolean closedAtEnd;

        Connection() throws IOException {
            try {
                socket.setTcpNoDelay(true);
                socket.connect(remote, 5000);
                out = socket.getOutputStream();
            } catch (IOException e) {
                socket.close();
                throw e;
            }
            reader = new Thread(this::readAnswers, "nchan-publisher-reader");
            reader.setDaemon(true);
            reader.start();
        }

        /** Writes one request; on a broken connection, it and every unanswered one on it count as failed. */
        synchronized void send(byte[] req) {
            sentAt.add(System.nanoTime());
            if (broken) {
                failAll(null);
                return;
            }
            try {
                out.write(req);
                out.flush();
            } catch (IOException e) {
                failAll(errorKind(e));
                close();
            }
        }

        /** Marks the connection broken; every request on it without an answer counts as failed. */
        private synchronized void failAll(String kind) {
            broken = true;
            while (sentAt.poll() != null) {
                failed.increment();
                error(kind != null ? kind : closedAtEnd ? "unanswered_at_end" : "connection_closed");
                inFlight.release();
            }
        }

        private void readAnswers() {
            try (InputStream in = new BufferedInputStream(socket.getInputStream(), 16 * 1024)) {
                while (true) {
                    int status = readResponse(in);
                    if (status < 0) break; // EOF
                    Long t0 = sentAt.poll();
                    if (t0 != null) {
                        long us = (System.nanoTime() - t0) / 1000;
                        synchronized (postMicros) {
                            postMicros.recordValue(Math.min(Math.max(us, 0), Stats.MAX_MICROS));
                        }
                    }
                    if (status == 201) {
                        created.increment();
                    } else if (status == 202) {
                        accepted.increment();
                    } else {
                        failed.increment();
                        error("http_" + status);
                    }
                    inFlight.release();
                }
            } catch (IOException e) {
                if (!broken) error(errorKind(e));
            } finally {
                failAll(null); // whatever was sent on this connection and not answered
                close();
            }
        }

        void close() {
            broken = true;
            try {
                socket.close();
            } catch (IOException ignored) {
                // closing anyway
            }
        }
    }

    /** Reads one HTTP/1.1 response; returns its status, or -1 at EOF before it. Bodies: Content-Length or chunked. */
    static int readResponse(InputStream in) throws IOException {
        String statusLine = line(in);
        if (statusLine == null) return -1;
        if (!statusLine.startsWith("HTTP/1.") || statusLine.length() < 12) throw new IOException("bad status line: " + statusLine);
        int status = Integer.parseInt(statusLine.substring(9, 12));
        long length = 0;
        boolean chunked = false;
        for (String h; (h = line(in)) != null && !h.isEmpty(); ) {
            int colon = h.indexOf(':');
            if (colon < 0) continue;
            String name = h.substring(0, colon).trim();
            String value = h.substring(colon + 1).trim();
            if (name.equalsIgnoreCase("Content-Length")) length = Long.parseLong(value);
            else if (name.equalsIgnoreCase("Transfer-Encoding") && value.toLowerCase(Locale.ROOT).contains("chunked")) chunked = true;
        }
        if (chunked) {
            while (true) {
                String size = line(in);
                if (size == null) throw new EOFException("in a chunked body");
                int semi = size.indexOf(';');
                long n = Long.parseLong((semi < 0 ? size : size.substring(0, semi)).trim(), 16);
                if (n == 0) {
                    for (String t; (t = line(in)) != null && !t.isEmpty(); ) {
                        // trailers: ignored
                    }
                    break;
                }
                skip(in, n);
                line(in); // CRLF after the chunk
            }
        } else {
            skip(in, length);
        }
        return status;
    }

    private static void skip(InputStream in, long n) throws IOException {
        while (n > 0) {
            long k = in.skip(n);
            if (k <= 0) {
                if (in.read() < 0) throw new EOFException("in a response body");
                k = 1;
            }
            n -= k;
        }
    }

    /** A CRLF- (or LF-) terminated ASCII line without its terminator; null at EOF before any byte. */
    private static String line(InputStream in) throws IOException {
        StringBuilder sb = new StringBuilder(64);
        int c;
        while ((c = in.read()) >= 0) {
            if (c == '\n') {
                int n = sb.length();
                if (n > 0 && sb.charAt(n - 1) == '\r') sb.setLength(n - 1);
                return sb.toString();
            }
            if (sb.length() > 16 * 1024) throw new IOException("response line too long");
            sb.append((char) c);
        }
        if (sb.length() == 0) return null;
        throw new EOFException("in a response line");
    }

    private void error(String kind) {
        errors.computeIfAbsent(errors.size() < 32 ? kind : "other", x -> new LongAdder()).increment();
    }

    private static String errorKind(Throwable c) {
        if (c instanceof SocketTimeoutException) return "connect_timeout";
        if (c instanceof ConnectException) return "connect_refused";
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
