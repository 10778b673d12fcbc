package io.odinws.cli;

import io.netty.buffer.ByteBuf;
import io.odinws.OdinServer;
import io.odinws.config.ConfigLoader;
import io.odinws.config.OdinConfig;
import io.odinws.ingest.IngestConsumer;
import io.odinws.ops.JvmMeters;
import io.odinws.envelope.FrameEncoder;
import io.odinws.envelope.RecordFrames;
import io.odinws.router.PreboundPort;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.json.JsonObject;
import io.vertx.micrometer.backends.BackendRegistries;
import org.apache.kafka.clients.consumer.ConsumerRecord;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * {@code java -XX:ArchiveClassesAtExit=odin-ws.jsa -jar odin-ws.jar cds-training}: starts the server
 * on free loopback ports against an empty broker of its own ({@link TrainingBroker}), gets ready, serves one client
 * (subscribe, heartbeat), health and metrics on both ports, encodes a record, loads Kafka's protocol classes, and
 * stops, so that the JVM writes the classes it loaded into a
 * class-data sharing archive. Started with {@code -XX:SharedArchiveFile=odin-ws.jsa}, the server is
 * ready in about half the time (bench: 2.4 s to 1.1 s on one core): class loading and verification
 * are most of its startup.
 */
public final class CdsTraining {

  private static final long STEP_SECONDS = 20;

  private CdsTraining() {
  }

  private static JsonObject conf(String bootstrap) {
    return new JsonObject()
        .put("mode", "single")
        .put("http", new JsonObject().put("host", "127.0.0.1").put("port", 0))
        .put("ops", new JsonObject().put("host", "127.0.0.1").put("port", 0))
        .put("kafka", new JsonObject().put("bootstrap", bootstrap))
        .put("admission", new JsonObject().put("enabled", false).put("cpuRejectPercent", 100).put("heapRejectPercent", 100));
  }

  public static void run() throws Exception {
    // The default topics, each with one empty partition: the consumer assigns, seeks and polls as against a real broker.
    Set<String> topics = ConfigLoader.resolve(conf("127.0.0.1:9"), Map.of()).kafka().topics().keySet();
    try (TrainingBroker broker = new TrainingBroker(topics)) {
      run(conf(broker.bootstrap()));
    }
  }

  private static void run(JsonObject conf) throws Exception {
    OdinConfig config = ConfigLoader.resolve(conf, Map.of());
    Vertx vertx = Vertx.vertx(Main.vertxOptions(config));
    try {
      // as Main starts it: the port bound first (its classes go into the archive too)
      OdinServer server = new OdinServer(PreboundPort.bind(config.http()), IngestConsumer.ahead(config.kafka()));
      vertx.deployVerticle(server, new DeploymentOptions().setConfig(conf)).await(STEP_SECONDS, TimeUnit.SECONDS);
      JvmMeters.bindLater(vertx, BackendRegistries.getDefaultNow()).await(STEP_SECONDS, TimeUnit.SECONDS);
      int port = server.port();
      var http = vertx.createHttpClient();
      // ready once the consumer is assigned: the path a real start takes
      long readyBy = System.nanoTime() + TimeUnit.SECONDS.toNanos(STEP_SECONDS);
      while (http.request(HttpMethod.GET, server.opsPort(), "127.0.0.1", "/health/ready")
          .compose(req -> req.send()).await(STEP_SECONDS, TimeUnit.SECONDS).statusCode() != 200) {
        if (System.nanoTime() > readyBy) {
          throw new IllegalStateException("cds-training: the server did not get ready against the training broker");
        }
        Thread.sleep(50);
      }
      for (int on : new int[] {port, server.opsPort()}) {
        for (String path : new String[] {"/health", "/health/live", "/health/ready", "/metrics"}) {
          http.request(HttpMethod.GET, on, "127.0.0.1", path)
              .compose(req -> req.send().compose(resp -> resp.body()))
              .await(STEP_SECONDS, TimeUnit.SECONDS);
        }
      }
      // Held until the end: Vert.x closes a WebSocketClient that is garbage collected, and its sockets with it.
      WebSocketClient client = vertx.createWebSocketClient();
      WebSocket ws = client.connect(port, "127.0.0.1", "/ws").await(STEP_SECONDS, TimeUnit.SECONDS);
      var replies = new java.util.concurrent.LinkedBlockingQueue<String>();
      ws.textMessageHandler(replies::add);
      ws.writeTextMessage("{\"type\":\"subscribe\",\"data\":{\"channels\":[\"BTC.trade\",\"BTC.*\"]}}");
      ws.writeTextMessage("{\"type\":\"heartbeat\"}");
      for (int i = 0; i < 2; i++) {
        if (replies.poll(STEP_SECONDS, TimeUnit.SECONDS) == null) {
          throw new IllegalStateException("cds-training: no reply from the server");
        }
      }
      ws.close().await(STEP_SECONDS, TimeUnit.SECONDS);
      client.close().await(STEP_SECONDS, TimeUnit.SECONDS);
      byte[] value = "{\"type\":\"TRADE_EXECUTED\",\"timestamp\":1,\"data\":{\"price\":1.5}}".getBytes(StandardCharsets.UTF_8);
      var record = new ConsumerRecord<>("odin.trades", 0, 0L, "BTC".getBytes(StandardCharsets.UTF_8), value);
      ByteBuf frame = RecordFrames.replayMessage(new FrameEncoder(io.netty.buffer.PooledByteBufAllocator.DEFAULT),
          Map.of("odin.trades", "trade"), record).frame();
      frame.release();
      // The training broker answers four requests; a real broker's other answers load more of the protocol's classes.
      // Initializing the protocol's enums loads the messages, the error classes and their lambdas.
      org.apache.kafka.common.protocol.ApiKeys.values();
      org.apache.kafka.common.protocol.Errors.values();
    } finally {
      vertx.close().await(STEP_SECONDS, TimeUnit.SECONDS);
    }
  }
}
