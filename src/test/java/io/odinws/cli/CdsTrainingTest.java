package io.odinws.cli;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

/**
 * {@code cds-training} is what the image build runs (Dockerfile) to write the class-data sharing
 * archive, with no broker: it must start the server, get answers to a subscribe and a heartbeat, and
 * stop, or the build fails.
 */
class CdsTrainingTest {

  @Test
  void servesOneClientWithoutKafkaAndStops() {
    assertTimeoutPreemptively(Duration.ofSeconds(60), CdsTraining::run);
  }
}
