package io.odinws.ops;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.odinws.config.PagesConfig;
import io.odinws.router.ShardRegistry;
import io.odinws.testkit.Await;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.ext.web.Router;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The operator snapshot is sampled only while someone reads it: an idle server samples nothing. */
class PageRoutesSamplingTest {

  private static final Duration TIMEOUT = Duration.ofSeconds(20);
  private static final long READ_IDLE_MS = 300;

  private final HttpClient http = HttpClient.newBuilder().connectTimeout(TIMEOUT).build();
  private Vertx vertx;
  private Context context;
  private PageRoutes pages;
  private HttpServer server;

  @BeforeEach
  void serve() throws Exception {
    vertx = Vertx.vertx();
    context = vertx.getOrCreateContext();
    PagesSetup setup = new PagesSetup(new PagesConfig(true, PagesConfig.DEMO_TOKENS), "/ws", () -> 1,
        new PrometheusMeterRegistry(PrometheusConfig.DEFAULT), new ShardRegistry());
    CompletableFuture<HttpServer> listening = new CompletableFuture<>();
    context.runOnContext(v -> {
      pages = new PageRoutes(setup, READ_IDLE_MS);
      pages.start(vertx);
      Router router = Router.router(vertx);
      pages.mount(router);
      vertx.createHttpServer().requestHandler(router).listen(0, "127.0.0.1")
          .onSuccess(listening::complete).onFailure(listening::completeExceptionally);
    });
    server = listening.get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
  }

  @AfterEach
  void close() throws Exception {
    context.runOnContext(v -> pages.stop(vertx));
    vertx.close().toCompletionStage().toCompletableFuture().get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
  }

  @Test
  void samplesFromTheFirstReadUntilNobodyHasReadForAWhile() throws Exception {
    assertFalse(onContext(() -> pages.sampling()), "nobody has read: no sampling");
    HttpResponse<String> r = http.send(request("/api/operator").build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(200, r.statusCode());
    assertTrue(r.body().contains("\"uptimeSeconds\""), r.body());
    assertTrue(onContext(() -> pages.sampling()), "a read starts the sampler");
    Await.until("the sampler stops after the reads stop", TIMEOUT, () -> !onContext(() -> pages.sampling()));
  }

  @Test
  void anOpenStreamKeepsTheSamplerGoing() throws Exception {
    HttpResponse<InputStream> stream = http.send(request("/api/operator/stream").build(), HttpResponse.BodyHandlers.ofInputStream());
    try (InputStream body = stream.body()) {
      assertEquals(200, stream.statusCode());
      // two snapshots pushed after the first: the sampler ran on while the stream stayed open past the idle time
      int events = 0;
      StringBuilder line = new StringBuilder();
      long started = System.nanoTime();
      while (events < 3) {
        int c = body.read();
        if (c < 0) {
          break;
        }
        if (c == '\n') {
          if (line.toString().startsWith("data: ")) {
            events++;
          }
          line.setLength(0);
        } else {
          line.append((char) c);
        }
      }
      assertEquals(3, events, "snapshots on the stream");
      assertTrue(System.nanoTime() - started > TimeUnit.MILLISECONDS.toNanos(READ_IDLE_MS), "past the idle time");
      assertTrue(onContext(() -> pages.sampling()), "still sampling while the stream is open");
    }
  }

  private HttpRequest.Builder request(String path) {
    return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.actualPort() + path)).timeout(TIMEOUT);
  }

  private <T> T onContext(java.util.function.Supplier<T> read) {
    CompletableFuture<T> out = new CompletableFuture<>();
    context.runOnContext(v -> out.complete(read.get()));
    return out.join();
  }
}
