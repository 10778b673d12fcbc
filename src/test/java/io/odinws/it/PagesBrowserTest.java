package io.odinws.it;

import io.odinws.testkit.Chromium;
import io.odinws.testkit.EmbeddedKafka;
import io.odinws.testkit.KafkaBrokerExtension;
import io.odinws.testkit.NodeScript;
import io.odinws.testkit.OdinTopics;
import io.odinws.tools.publish.DemoPublisher;
import io.odinws.tools.publish.PublisherOptions;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The market and operator pages as the operations port serves them (built into the class path's webroot by the
 * Maven build), in headless Chromium, against the real server and broker with the demo publisher running:
 * clients/pages/test/smoke.mjs in its {@code --server} mode checks that both render, that their numbers move, that
 * "Drop connection" recovers, and that the console has no error and no request leaves the server.
 */
@ExtendWith(KafkaBrokerExtension.class)
class PagesBrowserTest {

  @Test
  @Timeout(value = 4, unit = TimeUnit.MINUTES)
  void bothPagesRenderAndMoveWhileThePublisherRuns(EmbeddedKafka kafka) throws Exception {
    Path chromium = Chromium.executable();
    OdinTopics.createAll(kafka);
    Path shots = Path.of("target", "pages-screenshots").toAbsolutePath();
    try (ServerHarness server = ServerHarness.start(kafka, new JsonObject().put("mode", "multi").put("shards", 2));
         DemoPublisher publisher = DemoPublisher.start(PublisherOptions.parse(new String[] {"--bootstrap", kafka.bootstrap(), "--rate", "200"}));
         NodeScript smoke = NodeScript.start("../pages/test/smoke.mjs", List.of("--server", "http://127.0.0.1:" + server.server.opsPort(),
             "--shots", shots.toString(), "--chromium", chromium.toString()), e -> System.out.println("pages: " + e.encode()))) {
      JsonObject result = smoke.await("the pages' smoke test's result", Duration.ofMinutes(3), e -> "result".equals(e.getString("event")));
      assertTrue(result.getBoolean("ok"), "every check of both pages passed: " + result.encode());
      assertTrue(smoke.waitForExit(Duration.ofSeconds(30)), "the smoke test ended");
      List<JsonObject> failed = smoke.events().stream().filter(e -> "FAIL".equals(e.getString("event"))).toList();
      assertEquals(List.of(), failed);
      assertTrue(publisher.sent() > 0, "the publisher ran");
    }
  }
}
