package io.odinws.recovery;

import io.netty.buffer.PooledByteBufAllocator;
import io.odinws.bus.FrameBatch;
import io.odinws.envelope.OutboundMessage;
import io.odinws.config.KafkaConfig;
import io.odinws.config.RecoveryConfig;
import io.odinws.envelope.FrameEncoder;
import io.odinws.envelope.RecordFrames;
import io.odinws.envelope.RecordOwners;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * Reads positions older than the in-memory history straight from Kafka (PROTOCOL.md section 6),
 * coalescing concurrent requests for the same partition into as few reads as it can.
 *
 * <h2>Threads and consumers</h2>
 * Reads run on {@value #THREADS} daemon threads named {@code odin-replay-N}. Each thread owns one
 * long-lived {@link KafkaConsumer} (created on its first read, so a reader that is never used never
 * connects) and one {@link FrameEncoder}; a read assigns the one partition and seeks (no consumer
 * group, no commits). Reusing the consumer saves the 10-50 ms of creating one and its bootstrap and
 * metadata round trips per read; after any failure the thread closes it and makes a fresh one for
 * its next read, so a consumer in a doubtful state is never reused.
 *
 * <h2>Coalescing</h2>
 * Per topic-partition at most one read is in flight. A request for a partition with no read in flight
 * starts one for exactly its range. Requests that arrive while a read is in flight:
 * <ul>
 *   <li>attach to it when the read has not started yet (it is still queued for a thread): its range
 *       widens to cover theirs;</li>
 *   <li>attach to it when it has started and its range covers theirs ({@code from >= read.from &&
 *       until <= read.until});</li>
 *   <li>otherwise wait in the partition's pending set; when the in-flight read finishes, one new read
 *       covering {@code [min pending from, max pending until)} serves them all.</li>
 * </ul>
 * A reconnect storm (thousands of clients whose positions differ slightly) therefore costs one or
 * two reads per partition. When a read was cut short by {@link RecoveryConfig#maxRecordsPerKafkaRead()}
 * and that cut left incomplete a request that a read of its own range would have served completely
 * (its range holds at most that many offsets, and it starts after the shared read's start), the request
 * goes back to the pending set rather than being answered incomplete (at most {@value #MAX_REQUEUES}
 * times); each such follow-up read starts later, so this always makes progress.
 *
 * <h2>Results and ownership</h2>
 * One read makes one {@link FrameBatch}: the valid records of the read's range in offset order (records
 * that fail the live path's validation, {@link RecordFrames#check}, are omitted and logged, but their
 * offsets count as read). Every request served by the read
 * gets the same batch with its own reference (retained once per request before any future completes;
 * the reader's own reference goes to the last one), and its own {@link ReplayRead#fromOffset()}/{@link ReplayRead#untilOffset()},
 * with {@link ReplayRead#complete()} judged against its own range. The batch may hold records outside
 * the request's range: callers filter by offset (and channel). A future that cannot take its result
 * (completed elsewhere) gets its reference released right away, so no path leaks frames.
 *
 * <p>Futures complete on the reader's threads (never on the caller's event loop); {@link #read} itself
 * only takes a short lock and never blocks.
 *
 * <h2>Limits and failures</h2>
 * A read gives up after {@link RecoveryConfig#kafkaReadTimeoutMs()} (measured from when a thread starts
 * it, covering metadata, offset look-ups and fetches). When the time runs out or the record limit is
 * reached after the partition's offsets are known, the read returns what it has with
 * {@code complete=false}; when it runs out before (broker unreachable), or the topic or partition does
 * not exist, or the topic is not in {@code kafka.topics}, or the partition's log start moves past the
 * read position while reading, the futures fail. {@link #close()} fails every waiting request.
 */
public final class KafkaReplayReader implements KafkaReplay, AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(KafkaReplayReader.class);

  /** Reader threads, hence at most this many partitions read at once (one consumer each). */
  static final int THREADS = 4;
  /** How often one request may go back to the pending set after a shared read's record limit cut it short. */
  static final int MAX_REQUEUES = 3;
  /** Upper bound of {@code max.poll.records}; smaller when the per-read record limit is smaller. */
  private static final int MAX_POLL_RECORDS = 5_000;
  /** {@code fetch.max.bytes} and {@code max.partition.fetch.bytes}: one partition per fetch, so both the same. */
  private static final int FETCH_MAX_BYTES = 4 * 1024 * 1024;
  private static final long CLOSE_JOIN_MS = 5_000;

  private final KafkaConfig kafka;
  private final RecoveryConfig recovery;
  private final Map<String, String> topicToCategory;
  /** Private topics: their records carry their owners, as on the live path. */
  private final RecordOwners owners;
  private final Object lock = new Object();
  /** Guarded by {@link #lock}. Entries exist only while a partition has a read in flight. */
  private final Map<TopicPartition, PartitionState> partitions = new HashMap<>();
  /** Partition counts of the topics seen, so an unknown partition fails without waiting for the timeout. */
  private final Map<String, Integer> partitionCounts = new ConcurrentHashMap<>();
  private final BlockingQueue<Job> queue = new LinkedBlockingQueue<>();
  private final Worker[] workers;
  private final Consumer<TopicPartition> beforeRead;
  private final AtomicLong reads = new AtomicLong();
  private final AtomicLong requests = new AtomicLong();
  private volatile boolean closed;

  public KafkaReplayReader(KafkaConfig kafka, RecoveryConfig recovery) {
    this(kafka, recovery, RecordOwners.NONE);
  }

  /** @param owners the private topics (the ingest's: replayed records carry the owners live ones do) */
  public KafkaReplayReader(KafkaConfig kafka, RecoveryConfig recovery, RecordOwners owners) {
    this(kafka, recovery, THREADS, tp -> { }, owners);
  }

  KafkaReplayReader(KafkaConfig kafka, RecoveryConfig recovery, int threads, Consumer<TopicPartition> beforeRead) {
    this(kafka, recovery, threads, beforeRead, RecordOwners.NONE);
  }

  /**
   * @param threads    reader threads
   * @param beforeRead called on a reader thread when a read has started (its range fixed) and before
   *                   it touches Kafka; tests use it to hold a read in flight
   */
  KafkaReplayReader(KafkaConfig kafka, RecoveryConfig recovery, int threads, Consumer<TopicPartition> beforeRead,
                    RecordOwners owners) {
    this.beforeRead = beforeRead;
    this.owners = owners;
    this.kafka = kafka;
    this.recovery = recovery;
    this.topicToCategory = Map.copyOf(kafka.topics());
    if (recovery.maxRecordsPerKafkaRead() < 1) {
      throw new IllegalArgumentException("recovery.maxRecordsPerKafkaRead must be at least 1");
    }
    if (recovery.kafkaReadTimeoutMs() < 1) {
      throw new IllegalArgumentException("recovery.kafkaReadTimeoutMs must be at least 1");
    }
    if (threads < 1) {
      throw new IllegalArgumentException("threads must be at least 1");
    }
    this.workers = new Worker[threads];
    for (int i = 0; i < threads; i++) {
      Worker w = new Worker(i + 1);
      workers[i] = w;
      w.thread.start();
    }
  }

  @Override
  public Future<ReplayRead> read(String topic, int partition, long fromOffset, long untilOffset) {
    requests.incrementAndGet();
    if (topic == null || partition < 0 || fromOffset < 0 || untilOffset < fromOffset) {
      return Future.failedFuture(new IllegalArgumentException(
          "invalid replay range " + topic + "-" + partition + " [" + fromOffset + ", " + untilOffset + ")"));
    }
    if (!topicToCategory.containsKey(topic)) {
      return Future.failedFuture(new IllegalArgumentException("topic " + topic + " is not in kafka.topics"));
    }
    Request request = new Request(fromOffset, untilOffset);
    TopicPartition tp = new TopicPartition(topic, partition);
    synchronized (lock) {
      if (closed) {
        return Future.failedFuture(new IllegalStateException("replay reader closed"));
      }
      PartitionState state = partitions.computeIfAbsent(tp, k -> new PartitionState());
      Job job = state.inflight;
      if (job == null) {
        start(tp, state, List.of(request));
      } else if (!job.started) {
        job.attach(request, true);
      } else if (request.from >= job.from && request.until <= job.until) {
        job.attach(request, false);
      } else {
        state.pending.add(request);
      }
    }
    return request.promise.future();
  }

  @Override
  public long reads() {
    return reads.get();
  }

  /** Requests received since start (each {@link #read} call). */
  public long requests() {
    return requests.get();
  }

  /** Starts a read for {@code waiting} (not empty). Caller holds the lock. */
  private void start(TopicPartition tp, PartitionState state, List<Request> waiting) {
    Job job = new Job(tp, state);
    for (Request r : waiting) {
      job.attach(r, true);
    }
    state.inflight = job;
    queue.add(job);
  }

  /**
   * A read finished ({@code result} or {@code error}): hands its result to every request attached,
   * starts the next read for the pending ones. Runs on the reader thread that did the read.
   */
  private void finish(Job job, ReadResult result, Throwable error) {
    List<Request> served = new ArrayList<>(job.requests.size());
    List<Request> failed = new ArrayList<>();
    synchronized (lock) {
      PartitionState state = job.state;
      state.inflight = null;
      List<Request> requeue = new ArrayList<>();
      for (Request r : job.requests) {
        if (error == null && !closed && shouldRequeue(job, result, r)) {
          r.requeues++;
          requeue.add(r);
        } else {
          served.add(r);
        }
      }
      if (closed) {
        failed.addAll(state.pending);
        state.pending.clear();
      } else {
        requeue.addAll(state.pending);
        state.pending.clear();
      }
      if (!requeue.isEmpty()) {
        start(job.tp, state, requeue);
      } else {
        partitions.remove(job.tp);
      }
    }
    if (error != null) {
      for (Request r : served) {
        fail(r, error);
      }
    } else {
      deliver(job, result, served);
    }
    Throwable closedError = new IllegalStateException("replay reader closed");
    for (Request r : failed) {
      fail(r, closedError);
    }
  }

  /** A request the record limit left incomplete although a read of its own range would have served it. */
  private boolean shouldRequeue(Job job, ReadResult result, Request r) {
    if (!result.cutByLimit || r.requeues >= MAX_REQUEUES || r.from <= job.from) {
      return false;
    }
    long ownFrom = Math.max(r.from, result.logStart);
    long ownUntil = Math.min(r.until, result.logEnd);
    return ownFrom < ownUntil && result.reached < ownUntil && ownUntil - ownFrom <= recovery.maxRecordsPerKafkaRead();
  }

  /**
   * One reference per request: the references are all taken before the first future completes (the
   * reader's own becomes the last request's), so a requester that releases at once never sees the
   * batch still held by the reader, and no requester can free it under another.
   */
  private static void deliver(Job job, ReadResult result, List<Request> served) {
    FrameBatch batch = result.batch;
    int n = served.size();
    if (n == 0) {
      batch.release();
      return;
    }
    for (int i = 1; i < n; i++) {
      batch.retain();
    }
    int handed = 0;
    try {
      for (Request r : served) {
        handed++; // this reference is now r's, or released just below
        long ownFrom = Math.max(r.from, result.logStart);
        long ownUntil = Math.min(r.until, result.logEnd);
        boolean complete = ownFrom >= ownUntil || result.reached >= ownUntil;
        boolean taken;
        try {
          taken = r.promise.tryComplete(new ReplayRead(batch, r.from, r.until, result.logStart, result.logEnd, complete));
        } catch (RuntimeException e) {
          // A completion handler threw: the requester already holds its reference.
          LOG.warn("event=replay_handler_failed partition={} error=\"{}\"", job.tp, e.toString(), e);
          continue;
        }
        if (!taken) {
          batch.release();
        }
      }
    } finally {
      for (int i = handed; i < n; i++) {
        batch.release();
      }
    }
  }

  private static void fail(Request r, Throwable error) {
    try {
      r.promise.tryFail(error);
    } catch (RuntimeException e) {
      LOG.warn("event=replay_handler_failed error=\"{}\"", e.toString(), e);
    }
  }

  /**
   * Stops the threads (interrupting their Kafka calls), closes their consumers and fails every request
   * still waiting. Blocks up to a few seconds: not for an event loop.
   */
  @Override
  public void close() {
    List<Request> failed = new ArrayList<>();
    synchronized (lock) {
      if (closed) {
        return;
      }
      closed = true;
      for (PartitionState state : partitions.values()) {
        failed.addAll(state.pending);
        state.pending.clear();
      }
    }
    Throwable closedError = new IllegalStateException("replay reader closed");
    for (Request r : failed) {
      fail(r, closedError);
    }
    for (Worker w : workers) {
      w.wakeup();
      queue.add(Job.POISON);
    }
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(CLOSE_JOIN_MS);
    for (Worker w : workers) {
      try {
        w.thread.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
      if (w.thread.isAlive()) {
        LOG.warn("event=replay_thread_slow_to_stop thread={}", w.thread.getName());
      }
    }
    // Reads that no thread picked up.
    List<Job> left = new ArrayList<>();
    queue.drainTo(left);
    for (Worker w : workers) {
      if (w.thread.isAlive()) {
        queue.add(Job.POISON); // a thread still busy stops once its read is done
      }
    }
    for (Job job : left) {
      if (job != Job.POISON) {
        finish(job, null, closedError);
      }
    }
  }

  // ----------------------------------------------------------------------------------------------

  /** One reader thread with its consumer and encoder. */
  private final class Worker implements Runnable {

    final Thread thread;
    final FrameEncoder encoder = new FrameEncoder(PooledByteBufAllocator.DEFAULT);
    /** Written by this thread only; read by {@link #close()} to wake it up. */
    volatile KafkaConsumer<byte[], byte[]> consumer;
    final int index;

    Worker(int index) {
      this.index = index;
      this.thread = new Thread(this, "odin-replay-" + index);
      thread.setDaemon(true);
    }

    void wakeup() {
      KafkaConsumer<byte[], byte[]> c = consumer;
      if (c != null) {
        c.wakeup();
      }
    }

    @Override
    public void run() {
      try {
        while (true) {
          Job job;
          try {
            job = queue.take();
          } catch (InterruptedException e) {
            break;
          }
          if (job == Job.POISON) {
            break;
          }
          runJob(job);
        }
      } finally {
        closeConsumer();
      }
    }

    private void runJob(Job job) {
      synchronized (lock) {
        job.started = true;
      }
      reads.incrementAndGet();
      ReadResult result;
      try {
        beforeRead.accept(job.tp);
        if (closed) {
          throw new IllegalStateException("replay reader closed");
        }
        result = readPartition(job.tp, job.from, job.until);
      } catch (Throwable e) {
        closeConsumer(); // a fresh one for the next read
        if (!closed) {
          LOG.warn("event=replay_read_failed topic={} partition={} from={} until={} error=\"{}\"",
              job.tp.topic(), job.tp.partition(), job.from, job.until, e.toString());
        }
        finish(job, null, e); // the thread carries on with the next read
        return;
      }
      finish(job, result, null);
    }

    private ReadResult readPartition(TopicPartition tp, long from, long until) {
      long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(recovery.kafkaReadTimeoutMs());
      KafkaConsumer<byte[], byte[]> c = consumer();
      checkPartitionExists(c, tp, deadline);
      List<TopicPartition> tps = List.of(tp);
      Long start = c.beginningOffsets(tps, remaining(deadline)).get(tp);
      Long end = c.endOffsets(tps, remaining(deadline)).get(tp);
      if (start == null || end == null) {
        throw new UnknownTopicOrPartitionException("no offsets for " + tp);
      }
      long logStart = start;
      long logEnd = end;
      long effFrom = Math.max(from, logStart);
      long effUntil = Math.min(until, logEnd);
      List<OutboundMessage> out = new ArrayList<>();
      long reached = effFrom;
      boolean cutByLimit = false;
      try {
        if (effFrom < effUntil) {
          c.assign(tps);
          c.seek(tp, effFrom);
          int limit = recovery.maxRecordsPerKafkaRead();
          int count = 0;
          read:
          while (reached < effUntil) {
            if (count >= limit) {
              cutByLimit = true;
              break;
            }
            long left = deadline - System.nanoTime();
            if (left <= 0) {
              break; // timed out: complete=false
            }
            ConsumerRecords<byte[], byte[]> records = c.poll(Duration.ofNanos(left));
            for (ConsumerRecord<byte[], byte[]> r : records.records(tp)) {
              if (r.offset() < reached) {
                continue;
              }
              if (r.offset() >= effUntil) {
                reached = effUntil;
                break read;
              }
              if (count >= limit) {
                cutByLimit = true;
                break read;
              }
              count++;
              reached = r.offset() + 1;
              OutboundMessage m = RecordFrames.replayMessage(encoder, topicToCategory, r, owners);
              if (m != null) {
                out.add(m);
              }
            }
            // Every record of the poll taken: the position also steps over offsets that carry no
            // record (transaction markers, compacted-away records).
            reached = Math.max(reached, c.position(tp, Duration.ofMillis(1_000)));
          }
        }
      } catch (Throwable e) {
        for (OutboundMessage m : out) {
          m.frame().release();
        }
        throw e;
      }
      FrameBatch batch = new FrameBatch(out.toArray(new OutboundMessage[0]), System.currentTimeMillis());
      return new ReadResult(batch, logStart, logEnd, reached, cutByLimit);
    }

    /** Fails fast (instead of at the timeout) for a topic or partition the broker does not have. */
    private void checkPartitionExists(KafkaConsumer<byte[], byte[]> c, TopicPartition tp, long deadline) {
      Integer count = partitionCounts.get(tp.topic());
      if (count != null && tp.partition() < count) {
        return;
      }
      List<PartitionInfo> infos = c.partitionsFor(tp.topic(), remaining(deadline));
      if (infos == null || infos.isEmpty()) {
        throw new UnknownTopicOrPartitionException("topic " + tp.topic() + " does not exist");
      }
      partitionCounts.put(tp.topic(), infos.size());
      if (tp.partition() >= infos.size()) {
        throw new UnknownTopicOrPartitionException("partition " + tp + " does not exist (" + infos.size() + " partitions)");
      }
    }

    private KafkaConsumer<byte[], byte[]> consumer() {
      KafkaConsumer<byte[], byte[]> c = consumer;
      if (c == null) {
        c = new KafkaConsumer<>(consumerProperties(index));
        consumer = c;
        if (closed) { // close() may have looked for a consumer to wake up before this one existed
          throw new IllegalStateException("replay reader closed");
        }
      }
      return c;
    }

    private void closeConsumer() {
      KafkaConsumer<byte[], byte[]> c = consumer;
      consumer = null;
      if (c != null) {
        try {
          c.close(Duration.ZERO);
        } catch (RuntimeException e) {
          LOG.debug("replay consumer close failed", e);
        }
      }
    }
  }

  private Properties consumerProperties(int index) {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrap());
    // One id per thread: identical client ids in one JVM clash on their JMX app-info MBean.
    p.put(ConsumerConfig.CLIENT_ID_CONFIG, "odin-ws-replay-" + index);
    p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false"); // no group
    p.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, "false");
    // No JMX reporter (Kafka's default): registering an MBean per client metric took ~100 ms of a start
    // on one core, and the server's own meters are on /metrics.
    p.put(ConsumerConfig.METRIC_REPORTER_CLASSES_CONFIG, "");
    // Reads always seek explicitly; a position that falls out of the log fails the read rather than
    // silently jumping (which would hide missing records).
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "none");
    p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, String.valueOf(Math.min(MAX_POLL_RECORDS, recovery.maxRecordsPerKafkaRead())));
    p.put(ConsumerConfig.FETCH_MAX_BYTES_CONFIG, String.valueOf(FETCH_MAX_BYTES));
    p.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, String.valueOf(FETCH_MAX_BYTES));
    p.put(ConsumerConfig.FETCH_MIN_BYTES_CONFIG, "1");
    p.put(ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, String.valueOf(Math.max(1_000, recovery.kafkaReadTimeoutMs())));
    p.put(ConsumerConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, "2000");
    return p;
  }

  private static Duration remaining(long deadlineNanos) {
    long left = deadlineNanos - System.nanoTime();
    if (left <= 0) {
      throw new org.apache.kafka.common.errors.TimeoutException("replay read timed out");
    }
    return Duration.ofNanos(left);
  }

  // ----------------------------------------------------------------------------------------------

  private static final class Request {
    final long from;
    final long until;
    final Promise<ReplayRead> promise = Promise.promise();
    /** Guarded by the reader's lock. */
    int requeues;

    Request(long from, long until) {
      this.from = from;
      this.until = until;
    }
  }

  /** Per partition with a read in flight. Guarded by the reader's lock. */
  private static final class PartitionState {
    Job inflight;
    final List<Request> pending = new ArrayList<>();
  }

  /** One Kafka read and the requests it serves. Fields guarded by the reader's lock until {@code started}. */
  private static final class Job {
    static final Job POISON = new Job(null, null);

    final TopicPartition tp;
    final PartitionState state;
    final List<Request> requests = new ArrayList<>();
    long from = Long.MAX_VALUE;
    long until = Long.MIN_VALUE;
    boolean started;

    Job(TopicPartition tp, PartitionState state) {
      this.tp = tp;
      this.state = state;
    }

    void attach(Request r, boolean widen) {
      requests.add(r);
      if (widen) {
        from = Math.min(from, r.from);
        until = Math.max(until, r.until);
      }
    }
  }

  /** What one read found; {@code reached}: every offset below it (from the read's start) was read. */
  private record ReadResult(FrameBatch batch, long logStart, long logEnd, long reached, boolean cutByLimit) {
  }
}
