package io.odinws.ingest;

import io.odinws.config.KafkaConfig;
import io.odinws.testkit.Await;
import io.odinws.testkit.EmbeddedKafka;
import io.odinws.testkit.KafkaBrokerExtension;
import io.odinws.testkit.OdinTopics;
import io.vertx.core.Vertx;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The ingest's consumer begun ahead of the server: built before anyone asks for it, assigned at the end offsets when the
 * broker answers, left to the verticle when it does not, and only for the settings it was begun with.
 */
@ExtendWith(KafkaBrokerExtension.class)
class IngestConsumerTest {

  /** Nothing listens on the discard port. */
  private static final KafkaConfig UNREACHABLE = config("127.0.0.1:9", "odin.trades");
  /** No port: the consumer's construction refuses it without a DNS lookup. */
  private static final KafkaConfig INVALID = config("not-a-host-and-port", "odin.trades");

  private final Vertx vertx = Vertx.vertx();

  private static KafkaConfig config(String bootstrap, String topic) {
    return new KafkaConfig(bootstrap, Map.of(topic, "trade"), 100, 100, 1_000);
  }

  @AfterEach
  void closeVertx() throws TimeoutException {
    vertx.close().await(30, TimeUnit.SECONDS);
  }

  /** The take's consumer, or the take's failure as it failed. */
  private IngestConsumer.Taken take(IngestConsumer source, KafkaConfig config) {
    try {
      return source.take(vertx, config).await(30, TimeUnit.SECONDS);
    } catch (TimeoutException e) {
      throw new AssertionError("no consumer within 30 s", e);
    }
  }

  /** Polls until a poll returns records (or 30 s pass, leaving them empty). */
  private static ConsumerRecords<byte[], byte[]> firstRecords(Consumer<byte[], byte[]> consumer) {
    ConsumerRecords<byte[], byte[]> records = ConsumerRecords.empty();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (records.isEmpty() && System.nanoTime() < deadline) {
      records = consumer.poll(Duration.ofMillis(200));
    }
    return records;
  }

  @Test
  void aheadHandsOverTheConsumerAssignedAtTheEndOfEveryPartition(EmbeddedKafka kafka) throws Exception {
    String topic = "ahead-" + System.nanoTime();
    kafka.createTopics(Map.of(topic, 3));
    try (KafkaProducer<String, String> producer = OdinTopics.producer(kafka.bootstrap())) {
      producer.send(new ProducerRecord<>(topic, 0, "k", "before-1")).get(30, TimeUnit.SECONDS);
      producer.send(new ProducerRecord<>(topic, 0, "k", "before-2")).get(30, TimeUnit.SECONDS);
      KafkaConfig config = config(kafka.bootstrap(), topic);
      IngestConsumer ahead = IngestConsumer.ahead(config);
      Await.until("the thread begun ahead is done", Duration.ofSeconds(30), ahead::built);
      IngestConsumer.Taken taken = take(ahead, config);
      try (Consumer<byte[], byte[]> consumer = taken.consumer()) {
        TopicPartition p0 = new TopicPartition(topic, 0);
        assertEquals(Map.of(p0, 2L, new TopicPartition(topic, 1), 0L, new TopicPartition(topic, 2), 0L), taken.assignedAtEnd());
        assertEquals(taken.assignedAtEnd().keySet(), consumer.assignment());
        // produced after the hand-over: the first poll starts at the end offsets, so it gets this and nothing before
        producer.send(new ProducerRecord<>(topic, 0, "k", "after")).get(30, TimeUnit.SECONDS);
        ConsumerRecords<byte[], byte[]> records = firstRecords(consumer);
        assertEquals(1, records.count());
        assertEquals("after", new String(records.iterator().next().value()));
        assertEquals(2L, records.iterator().next().offset());
      }
    }
  }

  /**
   * Vert.x's stream closes the consumer with Kafka's no-argument close, which waits (up to 30 s) for the broker to
   * answer the close of the fetch session; the broker answers after the fetch it holds. Here the broker holds it for a
   * minute and the requests do not time out before, so that close would still be waiting when the await gives up.
   */
  @Test
  void theConsumersCloseDoesNotWaitForTheFetchTheBrokerHolds(EmbeddedKafka kafka) throws Exception {
    String topic = "close-" + System.nanoTime();
    kafka.createTopics(Map.of(topic, 1));
    Properties properties = IngestConsumer.properties(
        new KafkaConfig(kafka.bootstrap(), Map.of(topic, "trade"), 100, 60_000, 1_000));
    properties.put(ConsumerConfig.REQUEST_TIMEOUT_MS_CONFIG, "120000");
    Consumer<byte[], byte[]> consumer = IngestConsumer.create(properties);
    TopicPartition p0 = new TopicPartition(topic, 0);
    consumer.assign(Set.of(p0));
    consumer.seekToEnd(Set.of(p0));
    consumer.position(p0);
    try (KafkaProducer<String, String> producer = OdinTopics.producer(kafka.bootstrap())) {
      producer.send(new ProducerRecord<>(topic, 0, "k", "v")).get(30, TimeUnit.SECONDS);
    }
    // the record's fetch opens a fetch session; the fetch after it is held by the broker
    assertEquals(1, firstRecords(consumer).count());
    assertTrue(consumer.poll(Duration.ofMillis(200)).isEmpty());
    CompletableFuture<Void> closed = CompletableFuture.runAsync(consumer::close);
    Await.until("the close returned without the broker's answer", Duration.ofSeconds(20), closed::isDone);
    closed.get(); // and did not fail
  }

  @Test
  void aTopicTheBrokerLacksLeavesTheAssignmentToTheVerticle(EmbeddedKafka kafka) {
    KafkaConfig config = config(kafka.bootstrap(), "no-such-topic-" + System.nanoTime());
    IngestConsumer.Taken taken = take(IngestConsumer.ahead(config), config);
    try (Consumer<byte[], byte[]> consumer = taken.consumer()) {
      assertNull(taken.assignedAtEnd());
      assertTrue(consumer.assignment().isEmpty());
    }
  }

  @Test
  void aBrokerThatDoesNotAnswerLeavesTheAssignmentToTheVerticle() {
    IngestConsumer.Taken taken = take(IngestConsumer.ahead(UNREACHABLE), UNREACHABLE);
    try (Consumer<byte[], byte[]> consumer = taken.consumer()) {
      assertNull(taken.assignedAtEnd());
    }
  }

  @Test
  void inPlaceBuildsNothingUntilTakenAndAssignsNothing() {
    IngestConsumer inPlace = IngestConsumer.inPlace();
    assertFalse(inPlace.built());
    IngestConsumer.Taken taken = take(inPlace, UNREACHABLE);
    try (Consumer<byte[], byte[]> consumer = taken.consumer()) {
      assertNull(taken.assignedAtEnd());
      assertEquals(Set.of(), consumer.assignment());
    }
  }

  @Test
  void aFailedBuildFailsTheTakeAsTheConstructionThrew() {
    assertThrows(KafkaException.class, () -> take(IngestConsumer.inPlace(), INVALID));
    IngestConsumer ahead = IngestConsumer.ahead(INVALID);
    Await.until("the build begun ahead has failed", Duration.ofSeconds(30), ahead::built);
    assertThrows(KafkaException.class, () -> take(ahead, INVALID));
  }

  @Test
  void theSettingsTheVerticleIsGivenWinOverThoseBegunAhead(EmbeddedKafka kafka) {
    // begun with settings that cannot build; taken with others: a consumer for the others, no failure
    IngestConsumer ahead = IngestConsumer.ahead(INVALID);
    try (Consumer<byte[], byte[]> consumer = take(ahead, UNREACHABLE).consumer()) {
      assertTrue(consumer.assignment().isEmpty());
    }
    // begun for a broker that answers, taken with settings that do not build: the settings taken with fail
    KafkaConfig reachable = config(kafka.bootstrap(), "no-such-topic-" + System.nanoTime());
    assertThrows(KafkaException.class, () -> take(IngestConsumer.ahead(reachable), INVALID));
  }
}
