package io.odinws.tools.loadtest;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.odinws.testkit.EmbeddedKafka;
import io.odinws.testkit.KafkaBrokerExtension;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/** The Kafka ground truth against the embedded broker: only records produced after start, only subscribed channels. */
@ExtendWith(KafkaBrokerExtension.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class KafkaGroundTruthTest {
    private static final String TRADES = "lt-truth.trades";
    private static final String SOCIAL = "lt-truth.social";

    @Test
    void recordsOffsetsAndTimestampsOfSubscribedChannelsFromTheStartOffsets(EmbeddedKafka kafka) throws Exception {
        kafka.createTopics(Map.of(TRADES, 3, SOCIAL, 2));
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrap());
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        Map<String, String> topics = new LinkedHashMap<>();
        topics.put(TRADES, "trade");
        topics.put(SOCIAL, "social");
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(p, new StringSerializer(), new StringSerializer());
             KafkaGroundTruth truth = new KafkaGroundTruth(kafka.bootstrap(), topics)) {
            long t = System.currentTimeMillis();
            for (int i = 0; i < 3; i++) send(producer, TRADES, "BTC", t - 10_000); // before the run: not expected
            truth.start(List.of("BTC.trade", "ETH.trade", "ETH.social"));
            List<RecordMetadata> btc = new ArrayList<>();
            List<RecordMetadata> ethSocial = new ArrayList<>();
            for (int i = 0; i < 5; i++) btc.add(send(producer, TRADES, "BTC", t + i));
            for (int i = 0; i < 2; i++) send(producer, TRADES, "SOL", t); // not subscribed
            for (int i = 0; i < 2; i++) ethSocial.add(send(producer, SOCIAL, "ETH", t + 100 + i));
            Map<String, GroundTruth.ChannelRecords> got = truth.collect(System.currentTimeMillis());
            GroundTruth.ChannelRecords b = got.get("BTC.trade");
            assertArrayEquals(btc.stream().mapToLong(RecordMetadata::offset).toArray(), b.offsets());
            assertArrayEquals(new long[] {t, t + 1, t + 2, t + 3, t + 4}, b.timestamps(), "the record timestamps");
            assertEquals(3, b.offsets()[0] - 0, "starts after the 3 records produced before start");
            assertArrayEquals(ethSocial.stream().mapToLong(RecordMetadata::offset).toArray(), got.get("ETH.social").offsets());
            assertEquals(0, got.get("ETH.trade").offsets().length);
            assertFalse(got.containsKey("SOL.trade"));
        }
    }

    private static RecordMetadata send(KafkaProducer<String, String> producer, String topic, String key, long ts) throws Exception {
        return producer.send(new ProducerRecord<>(topic, null, ts, key, "{\"type\":\"X\",\"timestamp\":" + ts + "}")).get(10, TimeUnit.SECONDS);
    }
}
