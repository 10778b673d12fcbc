package io.odinws.testkit;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.StringSerializer;

/** The Odin topics as the production cluster has them (12 partitions each), and a producer for tests. */
public final class OdinTopics {

  public static final int PARTITIONS = 12;

  public static final String TRADES = "odin.trades";
  public static final String LIQUIDITY = "odin.liquidity";
  public static final String METADATA = "odin.metadata";
  public static final String SOCIAL = "odin.social";
  public static final String COMMUNITY = "odin.community";
  public static final String CREATION = "odin.creation";
  public static final String ANALYTICS = "odin.analytics";
  public static final String BALANCES = "odin.balances";

  public static final List<String> ALL =
      List.of(TRADES, LIQUIDITY, METADATA, SOCIAL, COMMUNITY, CREATION, ANALYTICS, BALANCES);

  /** Topic name to partition count, in the order of {@link #ALL}; unmodifiable. */
  public static final Map<String, Integer> PARTITIONS_BY_TOPIC;

  static {
    Map<String, Integer> m = new LinkedHashMap<>();
    ALL.forEach(t -> m.put(t, PARTITIONS));
    PARTITIONS_BY_TOPIC = Collections.unmodifiableMap(m);
  }

  private OdinTopics() {
  }

  /** Creates the 8 Odin topics (idempotent) and waits until every partition answers listOffsets. */
  public static void createAll(EmbeddedKafka kafka) {
    kafka.createTopics(PARTITIONS_BY_TOPIC);
  }

  /** A String/String producer with acks=all (hence idempotent) and linger.ms=0. The caller closes it. */
  public static KafkaProducer<String, String> producer(String bootstrap) {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
    p.put(ProducerConfig.LINGER_MS_CONFIG, "0");
    p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    p.put(ProducerConfig.CLIENT_ID_CONFIG, "odin-test-producer");
    return new KafkaProducer<>(p);
  }
}
