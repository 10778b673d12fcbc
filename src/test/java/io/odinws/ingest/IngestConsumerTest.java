package io.odinws.ingest;

import io.odinws.config.KafkaConfig;
import io.odinws.testkit.Await;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.common.KafkaException;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The ingest's consumer built ahead of the server: before anyone asks for it, and only for the settings it was begun with. */
class IngestConsumerTest {

  /** Nothing listens on the discard port; building a consumer does not connect. */
  private static final KafkaConfig REACHABLE = config("127.0.0.1:9");
  /** No port: the consumer's construction refuses it without a DNS lookup. */
  private static final KafkaConfig INVALID = config("not-a-host-and-port");

  private static KafkaConfig config(String bootstrap) {
    return new KafkaConfig(bootstrap, Map.of("odin.trades", "trade"), 100, 100, 1_000);
  }

  @Test
  void aheadBuildsTheConsumerBeforeAnyoneTakesIt() {
    IngestConsumer ahead = IngestConsumer.ahead(REACHABLE);
    Await.until("the consumer begun ahead is built", Duration.ofSeconds(30), ahead::built);
    try (Consumer<byte[], byte[]> consumer = ahead.take(REACHABLE)) {
      assertNotNull(consumer);
    }
  }

  @Test
  void inPlaceBuildsNothingUntilTaken() {
    IngestConsumer inPlace = IngestConsumer.inPlace();
    assertFalse(inPlace.built());
    try (Consumer<byte[], byte[]> consumer = inPlace.take(REACHABLE)) {
      assertNotNull(consumer);
    }
  }

  @Test
  void aFailedBuildIsThrownByTakeAsTheConstructionThrewIt() {
    assertThrows(KafkaException.class, () -> IngestConsumer.inPlace().take(INVALID));
    IngestConsumer ahead = IngestConsumer.ahead(INVALID);
    Await.until("the build begun ahead has failed", Duration.ofSeconds(30), ahead::built);
    assertThrows(KafkaException.class, () -> ahead.take(INVALID));
  }

  @Test
  void theSettingsTheVerticleIsGivenWinOverThoseBegunAhead() {
    // begun with settings that cannot build; taken with others: a consumer for the others, no failure
    IngestConsumer ahead = IngestConsumer.ahead(INVALID);
    try (Consumer<byte[], byte[]> consumer = ahead.take(REACHABLE)) {
      assertNotNull(consumer);
    }
    IngestConsumer other = IngestConsumer.ahead(REACHABLE);
    assertThrows(KafkaException.class, () -> other.take(INVALID));
    Await.until("the unused consumer's build has ended", Duration.ofSeconds(30), other::built);
    assertTrue(other.built());
  }
}
