package io.odinws.tools.publish;

import io.odinws.cli.Main;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes the Odin event mix to Kafka at a precise open-loop rate from one thread: event i is due at
 * start + i/rate; each wakeup sends everything due (a late wakeup catches up with a burst instead of
 * drifting), then parks until the next due time. Use {@link #start(PublisherOptions)} and close it.
 */
public final class DemoPublisher implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(DemoPublisher.class);

    /**
     * Events due within this horizon are sent now rather than parked for: parkNanos has ~50 µs of timer
     * slack anyway, so at high rates sleeping for less would only add wakeups.
     */
    static final long HORIZON_NANOS = 50_000;
    private static final long SUMMARY_EVERY_NANOS = 10_000_000_000L;
    private static final long CLOSE_BUDGET_MILLIS = 1_000;

    private final PublisherOptions options;
    private final Producer<String, byte[]> producer;
    private final OdinEventFactory factory;
    private final Thread thread;
    private final CountDownLatch done = new CountDownLatch(1);
    private final AtomicBoolean closed = new AtomicBoolean();
    private final AtomicBoolean warnedFailure = new AtomicBoolean();
    private final AtomicLong sent = new AtomicLong();
    private final AtomicLong failed = new AtomicLong();
    private final AtomicLong skipped = new AtomicLong();
    private final Callback onAck = this::onAck;
    private volatile boolean stopping;
    private volatile Exception lastError;
    private volatile long startNanos; // schedule start, once topic metadata is warm
    // summary state, touched by the publishing thread only (and by close() after it stopped)
    private long lastSummaryNanos;
    private long lastSummarySent;

    private DemoPublisher(PublisherOptions options, Producer<String, byte[]> producer) {
        this.options = options;
        this.producer = producer;
        this.factory = OdinEventFactory.create(options);
        this.thread = new Thread(this::run, "odin-publisher");
        this.thread.setDaemon(true); // a forgotten close() must not keep a JVM alive; main() waits explicitly
    }

    /** Starts publishing to a new Kafka producer for {@code options.bootstrap()}. */
    public static DemoPublisher start(PublisherOptions options) {
        DemoPublisher p = new DemoPublisher(options, new KafkaProducer<>(producerConfig(options.bootstrap()),
                new StringSerializer(), new ByteArraySerializer()));
        log.info("publishing {} events/s to {}: tokens={} topics={} duration={} maxEvents={} seed={}",
                options.rate(), options.bootstrap(), options.tokens(), options.topics().keySet(),
                options.durationSeconds() == 0 ? "until stopped" : options.durationSeconds() + "s",
                options.maxEvents() == 0 ? "unlimited" : options.maxEvents(), options.seed());
        p.startNanos = System.nanoTime(); // provisional, until the loop starts its schedule
        p.thread.start();
        return p;
    }

    static Properties producerConfig(String bootstrap) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.CLIENT_ID_CONFIG, "odin-ws-publisher");
        p.put(ProducerConfig.ACKS_CONFIG, "1");
        // acks=1 rules out idempotence; say so explicitly (also sidesteps KAFKA-15591, see DESIGN-NOTES).
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "false");
        p.put(ProducerConfig.LINGER_MS_CONFIG, "2");
        p.put(ProducerConfig.BATCH_SIZE_CONFIG, "65536");
        p.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "none");
        // A dead broker or missing topic must not stall the loop for long: fail the send, count it, move on.
        p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, "1000");
        p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, "10000");
        p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "30000");
        return p;
    }

    /** Events acknowledged by the broker. */
    public long sent() {
        return sent.get();
    }

    /** Events that failed (send error, timeout, or rejected by the broker). */
    public long failed() {
        return failed.get();
    }

    /**
     * Events dropped unsent because the loop fell more than one second behind schedule (a long stall, an
     * unreachable broker, or a rate the machine cannot sustain): catching up on more would be a flood.
     */
    public long skipped() {
        return skipped.get();
    }

    /** Waits until the schedule is exhausted (duration or max events reached) or the publisher is closed. */
    public boolean awaitDone(long timeout, TimeUnit unit) throws InterruptedException {
        return done.await(timeout, unit);
    }

    /** Stops the loop and closes the producer (flushing what it can) within about a second; idempotent. */
    @Override
    public synchronized void close() {
        if (!closed.compareAndSet(false, true)) return;
        stopping = true;
        LockSupport.unpark(thread);
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(CLOSE_BUDGET_MILLIS);
        try {
            if (Thread.currentThread() != thread) thread.join(CLOSE_BUDGET_MILLIS / 2);
            // If the thread is still blocked in send() (max.block.ms), closing the producer wakes it.
            producer.close(Duration.ofNanos(Math.max(100_000_000L, deadline - System.nanoTime())));
            if (Thread.currentThread() != thread) thread.join(200);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            log.warn("closing the producer failed: {}", e.toString());
        }
        long elapsed = Math.max(1, System.nanoTime() - startNanos);
        log.info("publisher stopped: sent={} failed={} skipped={} in {} s, average {} events/s (target {})",
                sent(), failed(), skipped(), String.format("%.1f", elapsed / 1e9),
                Math.round(sent() * 1e9 / elapsed), options.rate());
    }

    private void run() {
        try {
            loop();
        } catch (Throwable t) {
            log.error("publisher loop died", t);
        } finally {
            done.countDown();
        }
    }

    private void loop() {
        int rate = options.rate();
        long limit = limit(options);
        long maxBacklog = rate; // one second's worth of events
        warmUp();
        startNanos = System.nanoTime();
        lastSummaryNanos = startNanos;
        RateSchedule schedule = new RateSchedule(startNanos, rate);
        long next = 0; // index of the next event to send
        while (!stopping && next < limit) {
            // The clock is re-read before every send (~25 ns): a send can block up to max.block.ms (broker
            // down), and the backlog must be re-checked after it, not after a whole batch of such sends.
            long now = System.nanoTime();
            if (now - lastSummaryNanos >= SUMMARY_EVERY_NANOS) summary(now);
            long due = schedule.dueCount(now + HORIZON_NANOS);
            if (due - next > maxBacklog) { // fell over a second behind: drop the oldest, keep the rate honest
                long resume = Math.min(due - maxBacklog, limit); // uncapped due, so a stalled run still ends on time
                skipped.addAndGet(resume - next);
                next = resume;
                continue;
            }
            if (next < Math.min(due, limit)) {
                send();
                next++;
                continue;
            }
            long wait = schedule.dueTimeNanos(next) - System.nanoTime();
            if (wait > HORIZON_NANOS) LockSupport.parkNanos(this, wait);
        }
    }

    /**
     * Fetches every topic's metadata before the clock starts: otherwise the first send to each topic blocks
     * the loop (up to max.block.ms) and the schedule starts behind. Gives up at the first failure (broker
     * down or topic missing) so startup is delayed by at most max.block.ms; sends then count the failures.
     */
    private void warmUp() {
        for (String topic : options.topics().keySet()) {
            if (stopping) return;
            try {
                producer.partitionsFor(topic);
            } catch (KafkaException e) {
                log.warn("no metadata for topic {} ({}); publishing anyway, failures will be counted", topic, e.toString());
                return;
            }
        }
    }

    /** Total events to send: the smaller of max events and duration x rate; Long.MAX_VALUE if neither. */
    static long limit(PublisherOptions o) {
        long limit = o.maxEvents() > 0 ? o.maxEvents() : Long.MAX_VALUE;
        if (o.durationSeconds() > 0 && o.durationSeconds() <= Long.MAX_VALUE / o.rate()) {
            limit = Math.min(limit, o.durationSeconds() * o.rate());
        }
        return limit;
    }

    private void send() {
        long nowMillis = System.currentTimeMillis(); // production time: value timestamp and record timestamp
        ProducedEvent e = factory.next(nowMillis);
        try {
            producer.send(new ProducerRecord<>(e.topic(), null, nowMillis, e.token(), e.value()), onAck);
        } catch (KafkaException | IllegalStateException ex) {
            // Most errors arrive through the callback; these are thrown (e.g. producer closed, interrupted).
            onAck(null, ex);
        }
    }

    private void onAck(RecordMetadata metadata, Exception error) {
        if (error == null) {
            sent.incrementAndGet();
            return;
        }
        failed.incrementAndGet();
        lastError = error;
        if (warnedFailure.compareAndSet(false, true)) { // once; later failures show in the summaries
            log.warn("publishing failed (further failures are counted in the summary): {}", error.toString());
        }
    }

    private void summary(long now) {
        long s = sent();
        double seconds = (now - lastSummaryNanos) / 1e9;
        Exception err = lastError;
        log.info("published sent={} failed={} skipped={} rate={}/s (target {}/s){}", s, failed(), skipped(),
                Math.round((s - lastSummarySent) / seconds), options.rate(),
                err == null ? "" : " lastError=" + err);
        lastError = null;
        lastSummaryNanos = now;
        lastSummarySent = s;
    }

    /** CLI: {@code odin-ws publish [options]} ({@link PublishCommand}); runs until the duration elapses or SIGTERM/Ctrl-C. */
    public static void main(String[] args) {
        System.exit(Main.commandLine(new PublishCommand()).execute(args));
    }
}
