package io.odinws.it;

import io.odinws.testkit.OdinTopics;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * An exact channel of the SDK tests: {@code token.category}, on the category's topic, in the partition Kafka's
 * default partitioner gives the token.
 */
record ExactChannel(String token, String category, String topic) {

  String name() {
    return token + "." + category;
  }

  int partition() {
    return KafkaTruth.partitionOf(token, OdinTopics.PARTITIONS);
  }

  /** Every position ({@code "partition:offset"}) Kafka holds for this channel, in offset order. */
  List<String> kafkaPositions(String bootstrap) {
    List<String> positions = new ArrayList<>();
    for (long offset : KafkaTruth.offsets(bootstrap, topic, partition(), 0, token)) {
      positions.add(partition() + ":" + offset);
    }
    return positions;
  }

  /**
   * {@code count} channels over the trade, liquidity and social topics, with tokens of this run only (the broker
   * is shared by the test classes of a run), two per token.
   */
  static List<ExactChannel> ofThisRun(String prefix, int count) {
    String run = Integer.toString(ThreadLocalRandom.current().nextInt(36 * 36 * 36), 36).toUpperCase();
    List<ExactChannel> out = new ArrayList<>();
    for (int t = 0; out.size() < count; t++) {
      String token = prefix + run + "T" + t;
      out.add(new ExactChannel(token, "trade", OdinTopics.TRADES));
      if (out.size() < count) {
        out.add(t % 2 == 0 ? new ExactChannel(token, "liquidity", OdinTopics.LIQUIDITY) : new ExactChannel(token, "social", OdinTopics.SOCIAL));
      }
    }
    return out;
  }
}
