package io.odinws.it;

import io.odinws.testkit.Await;
import io.odinws.testkit.Chromium;
import io.odinws.testkit.ClientsBuild;
import io.odinws.testkit.EmbeddedKafka;
import io.odinws.testkit.KafkaBrokerExtension;
import io.odinws.testkit.NodeScript;
import io.odinws.testkit.OdinTopics;
import io.odinws.testkit.ServerProcess;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The bundled SDK ({@code dist/odin-ws.min.js}, loaded by a page with a script tag) in headless Chromium against
 * the real server (a child JVM) and broker: the page follows four exact channels while records are produced; the
 * server is SIGKILLed and restarted mid-stream, and the page's application sees exactly Kafka's records of its
 * channels, each once, in order, with no error on the console. The first connection subscribes on the upgrade
 * (its URL names the channels), the ones after the kill by message, with their positions. The browser's own report
 * of a refused connection while the server is down (a console error of source "network" that no page can suppress)
 * is the only console error allowed.
 */
@ExtendWith(KafkaBrokerExtension.class)
class BrowserSdkTest {

  static final Duration STEP = Duration.ofSeconds(60);

  private final SeenPositions seen = new SeenPositions();

  @Test
  @Timeout(value = 4, unit = TimeUnit.MINUTES)
  void thePageSeesEveryRecordOnceInOrderThroughAKillAndRestart(EmbeddedKafka kafka) throws Exception {
    Path chromium = Chromium.executable();
    ClientsBuild.ensureSdkBuilt();
    OdinTopics.createAll(kafka);
    List<ExactChannel> channels = ExactChannel.ofThisRun("WEB", 4);
    JsonArray names = new JsonArray(channels.stream().map(ExactChannel::name).toList());

    try (ServerProcess server = ServerProcess.start(Path.of("target", "browser-sdk-test"), kafka.bootstrap(),
        new JsonObject().put("mode", "single"));
         NodeScript page = NodeScript.start("test/browser/run.mjs", List.of(new JsonObject()
             .put("chromium", chromium.toString()).put("url", server.wsUrl()).put("channels", names)
             .put("reportSockets", true)
             .put("options", new JsonObject().put("heartbeatInterval", 1000).put("heartbeatTimeout", 2000)
                 .put("minReconnectDelay", 200).put("maxReconnectDelay", 2000)).encode()), this::onEvent);
         RecordPump pump = new RecordPump(kafka.bootstrap(), channels)) {
      page.await("the page connected", STEP, 0, event("connected"));
      pump.start();
      Await.until("the page got messages", STEP, () -> seen.total() >= 50, seen::summary);

      int beforeKill = page.events().size();
      server.kill();
      page.await("the page saw the kill", STEP, beforeKill, event("disconnected"));
      server.restart();
      JsonObject recovered = page.await("the page recovered after the restart", STEP, beforeKill, event("recovered"));
      assertTrue(recovered.getBoolean("recovered") && recovered.getInteger("replayed") > 0,
          "the page recovered what was produced while the server was down, from Kafka: " + recovered);
      long atRecovery = seen.total();
      Await.until("live messages after the recovery", STEP, () -> seen.total() >= atRecovery + 50, seen::summary);

      pump.close();
      for (ExactChannel c : channels) {
        List<String> truth = c.kafkaPositions(kafka.bootstrap());
        assertEquals(pump.acked(c), truth, c + ": Kafka holds what the producer wrote");
        Await.until("the page reached the last record of " + c.name(), STEP, () -> seen.reached(0, c.name(), truth), seen::summary);
        List<String> mine = seen.of(0, c.name());
        assertEquals(truth, mine, c.name() + ": " + SeenPositions.difference(truth, mine));
      }
      page.send("end");
      JsonObject end = page.await("the page's final report", STEP, 0, e -> "end".equals(e.getString("ev"))).getJsonArray("clients").getJsonObject(0);
      for (ExactChannel c : channels) {
        List<String> truth = c.kafkaPositions(kafka.bootstrap());
        assertEquals(truth.get(truth.size() - 1), end.getJsonObject("positions").getString(c.name()), "the SDK keeps the last position");
      }
      assertEquals(seen.total(), end.getLong("delivered"), "every callback reported");

      List<JsonObject> events = page.events();
      List<String> urls = events.stream().filter(event("socket")).map(e -> e.getString("url")).toList();
      assertEquals(server.wsUrl() + "?subscribe=" + String.join(",", names.stream().map(String.class::cast).toList()),
          urls.get(0), "the first connection named its channels in its URL");
      assertTrue(urls.size() > 1 && urls.stream().skip(1).allMatch(server.wsUrl()::equals),
          "the reconnects, with positions, subscribed by message: " + urls);
      assertEquals(List.of(), events.stream().filter(e -> List.of("gap", "bad").contains(e.getString("ev"))
          || ("error".equals(e.getString("ev")) && "subscription".equals(e.getString("kind")))).toList(), "no gap, no bad message");
      List<JsonObject> console = events.stream().filter(e -> "console".equals(e.getString("ev"))).toList();
      assertEquals(List.of(), console.stream().filter(e -> !"network".equals(e.getString("source"))
          || !e.getString("text", "").startsWith("WebSocket connection to")).toList(), "no console error from the page");
      System.out.println("browser sdk test: " + seen.summary() + ", produced " + pump.count() + ", browser network errors "
          + console.size() + ", recovered " + recovered);
    }
  }

  private static Predicate<JsonObject> event(String ev) {
    return e -> ev.equals(e.getString("ev"));
  }

  /** The script's events: messages to {@link #seen}, the rest (few) to the log, for the story of a failure. */
  private void onEvent(JsonObject event) {
    if ("msgs".equals(event.getString("ev"))) {
      seen.add(event);
    } else {
      System.out.println("page: " + event.encode());
    }
  }
}
