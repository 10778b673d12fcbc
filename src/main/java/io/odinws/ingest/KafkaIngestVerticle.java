package io.odinws.ingest;

import io.odinws.envelope.ChannelNames;
import io.odinws.envelope.RecordFrames;
import io.odinws.envelope.RecordOwners;
import io.odinws.envelope.FrameEncoder;
import io.odinws.envelope.DeflateDemand;
import io.odinws.envelope.FrameDeflater;
import io.odinws.config.CompressionConfig;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.odinws.bus.BatchBus;
import io.odinws.envelope.ChannelKeys;
import io.odinws.bus.FrameBatch;
import io.odinws.envelope.OutboundMessage;
import io.odinws.config.KafkaConfig;
import io.odinws.recovery.History;
import io.odinws.stats.ServerMeters;
import io.micrometer.core.instrument.Gauge;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.kafka.client.common.KafkaClientOptions;
import io.vertx.kafka.client.consumer.KafkaReadStream;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * The one Kafka reader, on a worker thread. Assigns every partition of the configured topics (no
 * consumer group: every server instance sees every record), starts at the end, and turns each poll
 * into one {@link FrameBatch} of ready-to-write frames, published once on the local EventBus.
 */
public final class KafkaIngestVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(KafkaIngestVerticle.class);
  private static final long ASSIGN_RETRY_MS = 2_000;
  /** How long stop() waits for the consumer's close. */
  private static final long CLOSE_WAIT_MS = 100;

  private final KafkaConfig config;
  private final IngestConsumer consumer;
  private final IngestStats stats;
  private final History history;
  private final FrameEncoder encoder = new FrameEncoder(PooledByteBufAllocator.DEFAULT);
  private final ChannelNames names = new ChannelNames();
  private KafkaReadStream<byte[], byte[]> stream;
  private Set<TopicPartition> assignment = Set.of();
  private long healthTimer = -1;
  private long historyTimer = -1;
  private volatile boolean stopped;
  private boolean checking;
  private final Map<TopicPartition, Long> endOffsets = new java.util.concurrent.ConcurrentHashMap<>();

  private final ServerMeters meters;
  /** Private topics: their records carry their owners (or are skipped without one). */
  private final RecordOwners owners;
  /** Compresses live messages while a connection negotiated permessage-deflate; null when compression is off. */
  private final FrameDeflater deflater;
  private final DeflateDemand deflateDemand;

  public KafkaIngestVerticle(KafkaConfig config, IngestConsumer consumer, IngestStats stats, History history, ServerMeters meters,
                             RecordOwners owners, CompressionConfig compression, DeflateDemand deflateDemand) {
    this.deflater = compression.enabled()
        ? new FrameDeflater(PooledByteBufAllocator.DEFAULT, compression.level(), compression.minBytes()) : null;
    this.deflateDemand = deflateDemand;
    this.owners = owners;
    this.config = config;
    this.consumer = consumer;
    this.stats = stats;
    this.history = history;
    this.meters = meters;
  }

  @Override
  public Future<?> start() {
    return consumer.take(vertx, config).map(taken -> {
      stream = KafkaReadStream.create(vertx, taken.consumer(),
          KafkaClientOptions.fromProperties(IngestConsumer.properties(config), false));
      stream.pollTimeout(Duration.ofMillis(config.pollTimeoutMs()));
      stream.exceptionHandler(e -> {
        if (!stopped) {
          LOG.warn("event=kafka_error error=\"{}\" action=\"retrying; check kafka.bootstrap={} and the broker\"", e, config.bootstrap());
        }
      });
      Map<TopicPartition, Long> ahead = taken.assignedAtEnd();
      if (ahead != null) {
        // The stream polls only once it has assigned (or subscribed) itself. The same partitions again change
        // nothing in the consumer: their positions stay at the end offsets sought ahead.
        stream.assign(ahead.keySet()).onComplete((v, err) -> {
          if (err == null) {
            assigned(ahead);
          } else {
            assignAll();
          }
        });
      } else {
        // Assignment goes on in the background, retried until the broker answers, so the server
        // accepts clients (and reports Kafka unhealthy) while the broker is not reachable yet.
        assignAll();
      }
      return null;
    });
  }

  private void assignAll() {
    if (stopped) {
      return;
    }
    // One metadata request for every topic: while the broker is away each blocking call waits
    // default.api.timeout.ms on the consumer thread, and queued calls would delay stop() in turn.
    stream.listTopics()
        .compose(all -> {
          Set<TopicPartition> partitions;
          try {
            partitions = IngestConsumer.partitions(config, all);
          } catch (IllegalStateException e) {
            return Future.failedFuture(e.getMessage());
          }
          return stream.assign(partitions).compose(v -> seekToEnd(partitions));
        })
        .onSuccess(this::assigned)
        .onFailure(e -> {
          if (stopped) {
            return; // undeployed while assigning
          }
          stats.connected(false, e.getMessage());
          LOG.warn("event=kafka_assign_failed error=\"{}\" action=\"retrying in {} ms; check kafka.bootstrap={}\"",
              e.toString(), ASSIGN_RETRY_MS, config.bootstrap());
          vertx.setTimer(ASSIGN_RETRY_MS, id -> assignAll());
        });
  }

  /**
   * Seeks explicitly to the current end offsets (seekToEnd is lazy and would miss records produced
   * before the first poll).
   */
  private Future<Map<TopicPartition, Long>> seekToEnd(Set<TopicPartition> partitions) {
    return stream.endOffsets(partitions).map(ends -> {
      // On the consumer itself, here, rather than one task on its thread per partition (stream.seek): a seek only sets
      // a position, and nothing else uses the consumer now, as it is not polling before the batch handler is set and
      // the calls of this assignment ran one after the other. KafkaConsumer checks that no two threads are in it.
      Consumer<byte[], byte[]> consumer = stream.unwrap();
      ends.forEach(consumer::seek);
      return ends;
    });
  }

  /** Every partition assigned and at {@code ends}: the history's coverage starts there, and consumption begins. */
  private void assigned(Map<TopicPartition, Long> ends) {
    Set<TopicPartition> partitions = Set.copyOf(ends.keySet());
    assignment = partitions;
    Map<String, Integer> counts = new java.util.HashMap<>();
    partitions.forEach(tp -> counts.merge(tp.topic(), 1, Integer::sum));
    history.partitions(counts);
    ends.forEach((tp, offset) -> history.begin(tp.topic(), tp.partition(), offset));
    historyTimer = vertx.setPeriodic(1_000, id -> history.evictExpired(System.currentTimeMillis()));
    stats.assigned(partitions.size());
    stats.connected(true, null);
    stream.batchHandler(this::onBatch);
    healthTimer = vertx.setPeriodic(config.healthCheckIntervalMs(), id -> checkBroker());
    LOG.info("event=kafka_assigned topics={} partitions={} bootstrap={}", config.topics().size(), partitions.size(), config.bootstrap());
    registerLag(partitions); // after ready: a meter per partition, and nothing readiness waits for
  }

  /** ws_kafka_lag{topic,partition}: the partition's end (as of the last broker check) minus the next offset to process. */
  private void registerLag(Set<TopicPartition> partitions) {
    for (TopicPartition tp : partitions) {
      Gauge.builder("ws_kafka_lag", () -> {
            Long end = endOffsets.get(tp);
            long next = history.nextOffset(tp.topic(), tp.partition());
            return end == null || next < 0 ? 0 : Math.max(0, end - next);
          })
          .tags("topic", tp.topic(), "partition", String.valueOf(tp.partition()))
          .description("Records in Kafka not yet processed, per partition").register(meters.registry());
    }
  }

  /** A broker round trip; also what tells health that Kafka went away or came back. One at a time. */
  private void checkBroker() {
    if (checking) {
      return;
    }
    checking = true;
    stream.endOffsets(assignment).onComplete((ends, err) -> {
      checking = false;
      if (ends != null) {
        endOffsets.putAll(ends);
      }
      boolean wasConnected = stats.connected();
      stats.connected(err == null, err == null ? null : err.getMessage());
      if (wasConnected && err != null) {
        LOG.warn("event=kafka_unreachable error=\"{}\" action=\"consumption resumes by itself when the broker returns\"", err.getMessage());
      } else if (!wasConnected && err == null) {
        LOG.info("event=kafka_reachable partitions={}", assignment.size());
      }
    });
  }

  /** One poll becomes one batch. Runs on the worker thread; the only place frames are encoded. */
  private void onBatch(ConsumerRecords<byte[], byte[]> records) {
    long now = System.currentTimeMillis();
    OutboundMessage[] out = new OutboundMessage[records.count()];
    int n = 0;
    // once per message, for every connection of every shard that negotiated it (read once per poll)
    FrameDeflater compress = deflater != null && deflateDemand.any() ? deflater : null;
    int compressed = 0;
    long saved = 0;
    try {
      Map<String, String> topics = config.topics();
      for (ConsumerRecord<byte[], byte[]> r : records) {
        RecordFrames.Checked checked = RecordFrames.check(r, topics, names, owners);
        if (checked.keys() == null) {
          stats.skip(checked.skip());
          RecordFrames.logSkip(RecordFrames.Source.LIVE, r, checked.skip());
          history.record(r.topic(), r.partition(), r.offset(), null, now); // covered, nothing to replay
          continue;
        }
        ChannelKeys keys = checked.keys();
        ByteBuf frame = encoder.encodeLive(keys.channelUtf8(), r.partition(), r.offset(), now, r.value());
        ByteBuf deflated;
        try {
          deflated = compress == null ? null : compress.deflate(frame);
          if (deflated != null) {
            compressed++;
            saved += frame.readableBytes() - deflated.readableBytes();
          }
        } catch (RuntimeException | Error e) {
          frame.release(); // not in out[] yet
          throw e;
        }
        OutboundMessage m = new OutboundMessage(keys, r.partition(), r.offset(), frame, checked.owners(), deflated);
        out[n++] = m;
        // Recorded before the batch is published: what a shard delivers is always in the history already.
        history.record(r.topic(), r.partition(), r.offset(), m, now);
      }
    } catch (RuntimeException | Error e) {
      // Never leak the frames already encoded; the consumer goes on with the next poll.
      for (int i = 0; i < n; i++) {
        out[i].frame().release();
        if (out[i].deflated() != null) {
          out[i].deflated().release();
        }
      }
      LOG.error("event=batch_failed records={} error=\"{}\" action=\"this poll's records are not delivered; consumption continues\"",
          records.count(), e.toString(), e);
      return;
    }
    stats.addBatch(records.count(), n);
    if (compressed > 0) {
      stats.addCompressed(compressed, saved);
    }
    meters.batchSize().record(n);
    if (n > 0) {
      BatchBus.publish(vertx.eventBus(), new FrameBatch(n == out.length ? out : Arrays.copyOf(out, n), now));
    }
  }

  @Override
  public Future<?> stop() {
    stopped = true;
    if (healthTimer >= 0) {
      vertx.cancelTimer(healthTimer);
    }
    if (historyTimer >= 0) {
      vertx.cancelTimer(historyTimer);
    }
    if (stream == null) {
      return Future.succeededFuture();
    }
    // The consumer's close does not wait for the broker (IngestConsumer.ClosesAtOnce); the bound is for a consumer
    // thread still busy with a poll's records. (The Deflater's memory goes with the verticle, its Cleaner.)
    return stream.close().timeout(CLOSE_WAIT_MS, TimeUnit.MILLISECONDS).otherwiseEmpty();
  }
}
