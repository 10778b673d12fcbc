package io.odinws.it;

import io.odinws.testkit.Await;
import io.odinws.testkit.EmbeddedKafka;
import io.odinws.testkit.KafkaBrokerExtension;
import io.odinws.testkit.OdinTopics;
import io.odinws.testkit.Paced;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The broker goes away under live traffic and comes back: health follows it, delivery resumes, no server restart. */
@ExtendWith({KafkaBrokerExtension.class, VertxExtension.class})
class BrokerRestartTest {

  @Test
  void deliveryResumesWhenTheBrokerReturnsWithoutRestartingTheServer(EmbeddedKafka kafka, Vertx clientVertx) throws Exception {
    OdinTopics.createAll(kafka);
    try (ServerHarness server = ServerHarness.start(kafka, new JsonObject().put("shards", 2)
        .put("kafka", new JsonObject().put("healthCheckIntervalMs", 300)))) {
      HttpClient http = HttpClient.newHttpClient();
      URI health = URI.create("http://127.0.0.1:" + server.port() + "/health");
      try (KafkaProducer<String, String> producer = OdinTopics.producer(kafka.bootstrap())) {
        WsTestClient c = WsTestClient.open(clientVertx.createWebSocketClient(), server.port());
        c.subscribe("ATOM.trade");

        // Live traffic throughout: one record every 20 ms; acknowledged sends are what must arrive.
        ConcurrentLinkedQueue<Integer> acknowledged = new ConcurrentLinkedQueue<>();
        Paced traffic = Paced.every(Duration.ofMillis(20), "live-traffic", tick -> {
          int i = (int) tick;
          producer.send(new ProducerRecord<>(OdinTopics.TRADES, "ATOM", "{\"i\":" + i + "}"), (md, err) -> {
            if (err == null) {
              acknowledged.add(i);
            }
          });
        });
        Await.until("live delivery", Duration.ofSeconds(20), () -> c.dataCount() >= 20);

        kafka.stopBroker();
        Await.until("health reports Kafka down", Duration.ofSeconds(30), () -> status(http, health) == 503);
        assertTrue(server.server.ingest().assigned());
        kafka.restartBroker();
        Await.until("health reports Kafka back", Duration.ofSeconds(60), () -> status(http, health) == 200);
        int afterReturn = (int) traffic.ticks();
        Await.until("delivery resumes past the outage", Duration.ofSeconds(60),
            () -> acknowledged.stream().anyMatch(i -> i > afterReturn + 20)
                && c.data().stream().anyMatch(r -> r.json().getJsonObject("data").getInteger("i") > afterReturn + 20));
        traffic.close();
        producer.flush();
        List<Integer> expected = acknowledged.stream().sorted().toList();
        Await.until("every acknowledged record delivered", Duration.ofSeconds(30), () -> c.dataCount() >= expected.size(),
            () -> c.dataCount() + " of " + expected.size());
        List<Integer> got = c.data().stream().map(r -> r.json().getJsonObject("data").getInteger("i")).toList();
        assertEquals(expected, got.stream().sorted().toList(), "each acknowledged record exactly once");
        assertEquals(got.stream().sorted().toList(), got, "in order");
        c.close();
      }
    }
  }

  private static int status(HttpClient http, URI uri) {
    try {
      return http.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString()).statusCode();
    } catch (Exception e) {
      return -1;
    }
  }
}
