package io.odinws.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

@ExtendWith(KafkaBrokerExtension.class)
class EmbeddedKafkaTest {

  private static final Logger LOG = LoggerFactory.getLogger(EmbeddedKafkaTest.class);
  private static final Duration AWAIT = Duration.ofSeconds(30);

  @Test
  void brokerStartsOnLoopback(EmbeddedKafka kafka) throws Exception {
    LOG.info("embedded Kafka startup took {} ms", kafka.lastStartupTime().toMillis());
    assertTrue(kafka.bootstrap().matches("127\\.0\\.0\\.1:\\d+"), kafka.bootstrap());
    assertTrue(kafka.isRunning());
    assertSame(kafka, KafkaBrokerExtension.broker(), "one broker per JVM");
    try (Admin admin = kafka.createAdmin()) {
      var nodes = admin.describeCluster().nodes().get(30, TimeUnit.SECONDS);
      assertEquals(1, nodes.size());
      assertEquals("127.0.0.1", nodes.iterator().next().host());
      assertEquals(kafka.port(), nodes.iterator().next().port());
    }
  }

  @Test
  void everyRecordProducedRightAfterCreateTopicsIsReadBack(EmbeddedKafka kafka) throws Exception {
    String a = uniqueTopic("a");
    String b = uniqueTopic("b");
    Map<String, Integer> topics = new LinkedHashMap<>();
    topics.put(a, 12);
    topics.put(b, 12);
    kafka.createTopics(topics);
    kafka.createTopics(topics); // existing topics are fine

    Set<String> sent = new HashSet<>();
    try (KafkaProducer<String, String> producer = OdinTopics.producer(kafka.bootstrap())) {
      List<Future<RecordMetadata>> acks = new ArrayList<>();
      for (int i = 0; i < 1_000; i++) {
        String topic = i % 2 == 0 ? a : b;
        String key = "k" + i;
        acks.add(producer.send(new ProducerRecord<>(topic, key, "v" + i)));
        sent.add(topic + "/" + key);
      }
      producer.flush();
      Set<Integer> partitionsUsed = new HashSet<>();
      for (Future<RecordMetadata> ack : acks) {
        RecordMetadata md = ack.get(30, TimeUnit.SECONDS);
        partitionsUsed.add(md.topic().equals(a) ? md.partition() : 100 + md.partition());
      }
      assertEquals(24, partitionsUsed.size(), "1,000 keys should hit every one of the 24 partitions");
    }

    try (KafkaConsumer<String, String> consumer = assignedConsumer(kafka.bootstrap(), partitions(topics))) {
      List<ConsumerRecord<String, String>> got = pollUntil(consumer, 1_000);
      Set<String> received = got.stream().map(r -> r.topic() + "/" + r.key()).collect(Collectors.toSet());
      assertEquals(1_000, got.size(), "no duplicates, no losses");
      assertEquals(sent, received);
    }
  }

  @Test
  void stopAndRestartKeepAddressAndData(EmbeddedKafka kafka) throws Exception {
    String topic = uniqueTopic("restart");
    kafka.createTopics(Map.of(topic, 12));
    String bootstrapBefore = kafka.bootstrap();

    try (KafkaProducer<String, String> producer = OdinTopics.producer(kafka.bootstrap());
         KafkaConsumer<String, String> consumer = assignedConsumer(kafka.bootstrap(), partitions(Map.of(topic, 12)))) {
      sendAll(producer, topic, "before-", 100);
      assertEquals(100, pollUntil(consumer, 100).size());

      kafka.stopBroker();
      assertFalse(kafka.isRunning());
      kafka.restartBroker();
      assertTrue(kafka.isRunning());
      LOG.info("embedded Kafka restart took {} ms", kafka.lastStartupTime().toMillis());
      assertEquals(bootstrapBefore, kafka.bootstrap());

      // The clients created before the stop reconnect to the same address and carry on.
      sendAll(producer, topic, "after-", 100);
      List<ConsumerRecord<String, String>> after = pollUntil(consumer, 100);
      assertEquals(100, after.size());
      assertTrue(after.stream().allMatch(r -> r.key().startsWith("after-")));
    }

    // The data written before the restart survived it (same data dir).
    try (KafkaConsumer<String, String> fresh = assignedConsumer(kafka.bootstrap(), partitions(Map.of(topic, 12)))) {
      List<ConsumerRecord<String, String>> all = pollUntil(fresh, 200);
      assertEquals(200, all.size());
      assertEquals(100, all.stream().filter(r -> r.key().startsWith("before-")).count());
    }

    // And topics can still be created after the restart.
    String later = uniqueTopic("later");
    kafka.createTopics(Map.of(later, 3));
    try (KafkaProducer<String, String> producer = OdinTopics.producer(kafka.bootstrap());
         KafkaConsumer<String, String> consumer = assignedConsumer(kafka.bootstrap(), partitions(Map.of(later, 3)))) {
      sendAll(producer, later, "x-", 10);
      assertEquals(10, pollUntil(consumer, 10).size());
    }
  }

  // ----------------------------------------------------------------------------------------------------------------

  private static String uniqueTopic(String prefix) {
    return "test." + prefix + "." + UUID.randomUUID().toString().substring(0, 8);
  }

  private static List<TopicPartition> partitions(Map<String, Integer> topics) {
    List<TopicPartition> out = new ArrayList<>();
    topics.forEach((t, n) -> IntStream.range(0, n).forEach(p -> out.add(new TopicPartition(t, p))));
    return out;
  }

  private static void sendAll(KafkaProducer<String, String> producer, String topic, String keyPrefix, int count)
      throws Exception {
    List<Future<RecordMetadata>> acks = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      acks.add(producer.send(new ProducerRecord<>(topic, keyPrefix + i, "v" + i)));
    }
    producer.flush();
    for (Future<RecordMetadata> ack : acks) {
      ack.get(60, TimeUnit.SECONDS);
    }
  }

  /** No group.id, no commits: reads every assigned partition from the beginning. */
  private static KafkaConsumer<String, String> assignedConsumer(String bootstrap, Collection<TopicPartition> tps) {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    KafkaConsumer<String, String> consumer = new KafkaConsumer<>(p);
    consumer.assign(tps);
    return consumer;
  }

  /** Polls until at least {@code expected} records arrived (then briefly for extras), or fails after AWAIT. */
  private static List<ConsumerRecord<String, String>> pollUntil(KafkaConsumer<String, String> consumer, int expected) {
    List<ConsumerRecord<String, String>> got = new ArrayList<>();
    long deadline = System.nanoTime() + AWAIT.toNanos();
    while (got.size() < expected && System.nanoTime() - deadline < 0) {
      consumer.poll(Duration.ofMillis(200)).forEach(got::add);
    }
    // One more short poll so that duplicates, if any, would show up in the count.
    consumer.poll(Duration.ofMillis(200)).forEach(got::add);
    assertEquals(expected, got.size(), "records received within " + AWAIT);
    return got;
  }
}
