package io.odinws.ingest;

import io.odinws.config.KafkaConfig;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * Where the ingest's Kafka consumer comes from: its settings, and its construction, either where the verticle starts
 * ({@link #inPlace()}) or begun ahead of the server on a thread of its own ({@link #ahead}). Building a consumer
 * parses its configuration, sets up its metrics and registers its MBean with the platform MBean server, which a fresh
 * JVM creates then: a large share of a start's time to ready, and none of it needs Vert.x or the shards, so
 * {@code Main} begins it before them, on the other core.
 */
public final class IngestConsumer {

  private final KafkaConfig config;
  private final CompletableFuture<Consumer<byte[], byte[]>> created;

  private IngestConsumer(KafkaConfig config, CompletableFuture<Consumer<byte[], byte[]>> created) {
    this.config = config;
    this.created = created;
  }

  /** The consumer is built when the ingest verticle starts, on its thread (tests, the Vert.x CLI). */
  public static IngestConsumer inPlace() {
    return new IngestConsumer(null, null);
  }

  /** Starts building the consumer for {@code config} now, on a daemon thread of its own. */
  public static IngestConsumer ahead(KafkaConfig config) {
    CompletableFuture<Consumer<byte[], byte[]>> created = new CompletableFuture<>();
    Thread t = new Thread(() -> {
      try {
        created.complete(create(config));
      } catch (Throwable e) {
        created.completeExceptionally(e);
      }
    }, "odin-kafka-consumer-create");
    t.setDaemon(true);
    t.start();
    return new IngestConsumer(config, created);
  }

  /**
   * The consumer for {@code config}: the one begun ahead if it was for the same settings (waiting for it if it is not
   * built yet), else a new one built here. A failure to build it (a bootstrap address that does not resolve) is
   * thrown as the construction threw it, either way.
   */
  Consumer<byte[], byte[]> take(KafkaConfig config) {
    if (created == null) {
      return create(config);
    }
    if (!config.equals(this.config)) {
      created.thenAccept(unused -> unused.close(Duration.ZERO)); // never connected: nothing to wait for
      return create(config);
    }
    try {
      return created.join();
    } catch (CompletionException e) {
      if (e.getCause() instanceof RuntimeException r) {
        throw r;
      }
      throw e;
    }
  }

  /** Whether the consumer begun ahead is built (or failed to be). */
  boolean built() {
    return created != null && created.isDone();
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
    return new KafkaConsumer<>(properties(config), new ByteArrayDeserializer(), new ByteArrayDeserializer());
  }
}
