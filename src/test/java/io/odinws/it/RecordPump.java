package io.odinws.it;

import io.odinws.testkit.OdinTopics;
import io.odinws.testkit.Paced;
import io.vertx.core.json.JsonObject;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Produces about 100 records a second spread over exact channels, from its own thread, until closed; keeps the
 * positions Kafka acked. Each value is an Odin event carrying its channel's name, so a client can check that what it
 * was handed is the record of that channel.
 */
final class RecordPump implements AutoCloseable {

  private final KafkaProducer<String, String> producer;
  private final List<ExactChannel> channels;
  private final Map<String, List<String>> acked = new HashMap<>(); // guarded by itself
  private final AtomicReference<Exception> failure = new AtomicReference<>();
  private Paced traffic;

  RecordPump(String bootstrap, List<ExactChannel> channels) {
    this.producer = OdinTopics.producer(bootstrap);
    this.channels = channels;
  }

  void start() {
    traffic = Paced.every(Duration.ofMillis(10), "record-pump", this::produce);
  }

  private void produce(long n) {
    ExactChannel c = channels.get((int) (n % channels.size()));
    String value = new JsonObject().put("type", "TRADE_EXECUTED").put("timestamp", System.currentTimeMillis())
        .put("data", new JsonObject().put("channel", c.name()).put("n", n).put("price", 1.5).put("amount", 2)).encode();
    // Kafka runs the callbacks of one partition in offset order.
    producer.send(new ProducerRecord<>(c.topic(), c.token(), value), (meta, e) -> {
      if (e != null) {
        failure.compareAndSet(null, e);
        return;
      }
      synchronized (acked) {
        acked.computeIfAbsent(c.name(), k -> new ArrayList<>()).add(meta.partition() + ":" + meta.offset());
      }
    });
  }

  /** The positions Kafka acked for {@code c}, in offset order. */
  List<String> acked(ExactChannel c) {
    synchronized (acked) {
      return List.copyOf(acked.getOrDefault(c.name(), List.of()));
    }
  }

  long count() {
    return traffic == null ? 0 : traffic.ticks();
  }

  /** Stops producing; every record sent is acked (or the failure thrown) when this returns. Idempotent. */
  @Override
  public void close() throws InterruptedException {
    if (traffic != null) {
      traffic.close();
    }
    producer.flush();
    producer.close(Duration.ofSeconds(10));
    if (failure.get() != null) {
      throw new AssertionError("a record was not written", failure.get());
    }
  }
}
