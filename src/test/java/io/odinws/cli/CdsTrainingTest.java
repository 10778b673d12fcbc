package io.odinws.cli;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

/**
 * {@code cds-training} is what the image build runs (Dockerfile) to write the class-data sharing
 * archive, where no broker runs: against its own empty one ({@link TrainingBroker}) it must get the server
 * ready (the consumer assigned), get answers to a subscribe and a heartbeat, and stop, or the build fails.
 */
class CdsTrainingTest {

  @Test
  void getsReadyAgainstItsOwnBrokerServesOneClientAndStops() {
    assertTimeoutPreemptively(Duration.ofSeconds(60), CdsTraining::run);
  }
}
