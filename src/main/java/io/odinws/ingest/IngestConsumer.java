package io.odinws.ingest;

import io.odinws.config.KafkaConfig;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * Where the ingest's Kafka consumer comes from: its settings, and its construction, either where the verticle starts
 * ({@link #inPlace()}) or begun ahead of the server on a thread of its own ({@link #ahead}). Building a consumer
 * parses its configuration, sets up its metrics and registers its MBean with the platform MBean server, which a fresh
 * JVM creates then; its first conversation with the broker (connection, metadata, end offsets) runs Kafka's protocol
 * code for the first time. Together they were a large share of a start's time to ready, and none of it needs Vert.x
 * or the shards, so {@code Main} begins it before them: its waits for the broker overlap Vert.x's start. The thread
 * hands the consumer over assigned and at the end offsets when the broker answered in time, else unassigned: the
 * verticle then assigns it (and retries).
 */
public final class IngestConsumer {

  private static final Logger LOG = LoggerFactory.getLogger(IngestConsumer.class);

  /** How long the thread begun ahead waits for the broker before it leaves the assignment to the verticle. */
  static final Duration AHEAD_TIMEOUT = Duration.ofSeconds(2);

  private final KafkaConfig config;
  private final CompletableFuture<Taken> created;

  /**
   * The consumer handed to the verticle, and its assignment when one was made ahead: every partition of the configured
   * topics, each at the end offset in the map, or null when the verticle is to assign it.
   */
  record Taken(Consumer<byte[], byte[]> consumer, Map<TopicPartition, Long> assignedAtEnd) {
  }

  private IngestConsumer(KafkaConfig config, CompletableFuture<Taken> created) {
    this.config = config;
    this.created = created;
  }

  /** The consumer is built when the ingest verticle starts, on its thread (tests, the Vert.x CLI). */
  public static IngestConsumer inPlace() {
    return new IngestConsumer(null, null);
  }

  /** Starts building the consumer for {@code config} now, and assigning it, on a daemon thread of its own. */
  public static IngestConsumer ahead(KafkaConfig config) {
    CompletableFuture<Taken> created = new CompletableFuture<>();
    Thread t = new Thread(() -> {
      try {
        created.complete(assignAhead(create(config), config));
      } catch (Throwable e) {
        created.completeExceptionally(e);
      }
    }, "odin-kafka-consumer-ahead");
    t.setDaemon(true);
    t.start();
    return new IngestConsumer(config, created);
  }

  /**
   * The consumer for {@code config}, on {@code vertx}'s current context: the one begun ahead if it was for the same
   * settings (once its thread is done with it), else a new one built here. A failure to build it (a bootstrap address
   * that does not parse) fails the future as the construction threw it, either way.
   */
  Future<Taken> take(Vertx vertx, KafkaConfig config) {
    if (created == null) {
      return builtHere(config);
    }
    // the consumer's settings and topics, compared without the record's equals (its first call links it at run time)
    if (!properties(config).equals(properties(this.config)) || !config.topics().equals(this.config.topics())) {
      created.thenAccept(unused -> unused.consumer().close(Duration.ZERO));
      return builtHere(config);
    }
    return Future.fromCompletionStage(created, vertx.getOrCreateContext());
  }

  private static Future<Taken> builtHere(KafkaConfig config) {
    try {
      return Future.succeededFuture(new Taken(create(config), null));
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
  }

  /** Whether the thread begun ahead is done with the consumer (or failed to build it). */
  boolean built() {
    return created != null && created.isDone();
  }

  /**
   * Every partition of the configured topics in {@code all} (the broker's topics and their partitions).
   *
   * @throws IllegalStateException naming the first configured topic the broker does not have
   */
  static Set<TopicPartition> partitions(KafkaConfig config, Map<String, List<PartitionInfo>> all) {
    Set<TopicPartition> partitions = new HashSet<>();
    for (String topic : config.topics().keySet()) {
      List<PartitionInfo> infos = all.get(topic);
      if (infos == null || infos.isEmpty()) {
        throw new IllegalStateException("topic " + topic + " does not exist; create it or remove it from kafka.topics");
      }
      infos.forEach(info -> partitions.add(new TopicPartition(info.topic(), info.partition())));
    }
    return partitions;
  }

  /**
   * The verticle's assignment, made here: every partition at its end offset. A broker that does not answer within
   * {@link #AHEAD_TIMEOUT}, or lacks a topic, leaves it to the verticle, which retries and says why.
   */
  private static Taken assignAhead(Consumer<byte[], byte[]> consumer, KafkaConfig config) {
    try {
      Set<TopicPartition> partitions = partitions(config, consumer.listTopics(AHEAD_TIMEOUT));
      consumer.assign(partitions);
      Map<TopicPartition, Long> ends = consumer.endOffsets(partitions, AHEAD_TIMEOUT);
      ends.forEach(consumer::seek);
      return new Taken(consumer, ends);
    } catch (RuntimeException e) {
      LOG.debug("event=kafka_assign_ahead_skipped error=\"{}\"", e.toString());
      return new Taken(consumer, null);
    }
  }

  /** The consumer's settings: no group, no commits, the end of each partition when it has no position. */
  static Properties properties(KafkaConfig config) {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, config.bootstrap());
    p.put(ConsumerConfig.CLIENT_ID_CONFIG, "odin-ws-ingest");
    p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false"); // no group: Kafka refuses auto-commit
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "latest");
    p.put(ConsumerConfig.FETCH_MIN_BYTES_CONFIG, "1");
    p.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, String.valueOf(config.fetchMaxWaitMs()));
    p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "5000");
    p.put(ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "5000");
    p.put(ConsumerConfig.REQUEST_TIMEOUT_MS_CONFIG, "5000");
    p.put(ConsumerConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, "2000");
    // No JMX reporter (Kafka's default): an MBean per client metric is a slow start, and the server's own meters are
    // on /metrics.
    p.put(ConsumerConfig.METRIC_REPORTER_CLASSES_CONFIG, "");
    return p;
  }

  private static Consumer<byte[], byte[]> create(KafkaConfig config) {
    return create(properties(config));
  }

  /** The ingest's kind of consumer for {@code properties} (tests give it other timeouts). */
  static Consumer<byte[], byte[]> create(Properties properties) {
    return new ClosesAtOnce(properties);
  }

  /**
   * Kafka's consumer whose no-argument close, the one Vert.x's stream calls on the consumer's thread, does not wait.
   * Without a consumer group there is nothing to hand back; Kafka's default close waits (up to 30 s) for the answer to
   * closing the fetch session, which the broker sends only after the fetch it holds (up to {@code fetch.max.wait.ms}).
   * Meanwhile that thread sits in {@code epoll_wait}, and a JVM 17 exiting waits up to 300 ms more for any thread in
   * native code: an exit was that much slower than it needed to be.
   */
  private static final class ClosesAtOnce extends KafkaConsumer<byte[], byte[]> {

    ClosesAtOnce(Properties properties) {
      super(properties, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }

    @Override
    public void close() {
      close(Duration.ZERO);
    }
  }
}
