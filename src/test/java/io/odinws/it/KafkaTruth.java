package io.odinws.it;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/** Ground truth for recovery tests: the offsets of a key in a partition, read straight from Kafka. */
final class KafkaTruth {

  private KafkaTruth() {
  }

  /** Offsets of records with {@code key} in {@code [fromOffset, end)} of the partition. */
  static List<Long> offsets(String bootstrap, String topic, int partition, long fromOffset, String key) {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    // A test may delete a partition's older records (RecoveryTest simulates retention on the shared broker): a seek
    // before the log's start then lands on its first record, not (the default) at its end with nothing read.
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    try (KafkaConsumer<String, String> c = new KafkaConsumer<>(p)) {
      TopicPartition tp = new TopicPartition(topic, partition);
      c.assign(List.of(tp));
      c.seek(tp, fromOffset);
      long end = c.endOffsets(List.of(tp)).get(tp);
      List<Long> out = new ArrayList<>();
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (c.position(tp) < end) {
        if (System.nanoTime() > deadline) {
          throw new AssertionError("could not read " + tp + " to its end " + end);
        }
        for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(200))) {
          if (key.equals(r.key())) {
            out.add(r.offset());
          }
        }
      }
      return out;
    }
  }

  /** The partition the default partitioner gives {@code key} (what the server derives for bare offsets). */
  static int partitionOf(String key, int partitions) {
    return org.apache.kafka.common.utils.Utils.toPositive(org.apache.kafka.common.utils.Utils.murmur2(
        key.getBytes(java.nio.charset.StandardCharsets.UTF_8))) % partitions;
  }

  static Map.Entry<Integer, Long> pos(String pos) {
    String[] p = pos.split(":");
    return Map.entry(Integer.parseInt(p[0]), Long.parseLong(p[1]));
  }
}
