package io.odinws.ops;

import io.odinws.http.PublicEndpoints;

import io.odinws.config.OpsConfig;
import io.odinws.testkit.BlockedLoops;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.healthchecks.CheckResult;
import io.vertx.ext.healthchecks.HealthChecks;
import io.vertx.ext.healthchecks.Status;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The operations port's routes, and that it serves on no loop of Vert.x's pool. */
@ExtendWith(VertxExtension.class)
class OpsVerticleTest {

  private static final Duration TIMEOUT = Duration.ofSeconds(10);

  private final HttpClient http = HttpClient.newBuilder().connectTimeout(TIMEOUT).build();
  private final Endpoints endpoints = new Endpoints();
  private OpsVerticle ops;

  /** Fixed answers, readiness through vertx-health-check as in production. */
  private static final class Endpoints implements PublicEndpoints {
    volatile Health health = new Health(200, "{\"status\":\"healthy\"}");
    volatile boolean readinessFails;
    HealthChecks checks;

    @Override
    public Health health() {
      return health;
    }

    @Override
    public Health live() {
      return new Health(200, "{\"status\":\"UP\"}");
    }

    @Override
    public Future<Health> ready() {
      return readinessFails
          ? Future.failedFuture("checks failed")
          : checks.checkStatus().map(r -> new Health(CheckResult.isUp(r) ? 200 : 503, r.toJson().encode()));
    }

    @Override
    public String metrics() {
      return "ws_connections_total 3.0\n";
    }
  }

  @BeforeEach
  void deploy(Vertx vertx, VertxTestContext test) {
    endpoints.checks = HealthChecks.create(vertx).register("kafka", p -> p.complete(Status.OK()));
    ops = new OpsVerticle(new OpsConfig("127.0.0.1", 0, 1_000), endpoints);
    vertx.deployVerticle(ops).onComplete(test.succeedingThenComplete());
  }

  @Test
  void everyEndpointAnswersWithItsStatusTypeAndBody() {
    endpoints.health = new PublicEndpoints.Health(503, "{\"status\":\"unhealthy\"}");
    assertAnswer(get("/health"), 503, "application/json", "{\"status\":\"unhealthy\"}");
    assertAnswer(get("/health/live"), 200, "application/json", "{\"status\":\"UP\"}");
    HttpResponse<String> ready = get("/health/ready");
    assertEquals(200, ready.statusCode(), ready.body());
    assertEquals("UP", new JsonObject(ready.body()).getString("status"), ready.body());
    assertAnswer(get("/metrics"), 200, "text/plain; version=0.0.4; charset=utf-8", "ws_connections_total 3.0\n");
    assertAnswer(get("/metrics?name=ws_connections"), 200, "text/plain; version=0.0.4; charset=utf-8", "ws_connections_total 3.0\n");
  }

  @Test
  void headSaysTheLengthWithoutTheBody() {
    HttpResponse<String> head = send(HttpRequest.newBuilder(uri("/health")).method("HEAD", HttpRequest.BodyPublishers.noBody()));
    assertEquals(200, head.statusCode());
    assertEquals(String.valueOf("{\"status\":\"healthy\"}".length()), head.headers().firstValue("content-length").orElse(""));
    assertEquals("", head.body());
  }

  @Test
  void healthAnswersCorsAndMetricsDoesNot() {
    endpoints.health = new PublicEndpoints.Health(503, "{\"status\":\"unhealthy\"}");
    for (String path : new String[] {"/health", "/health/live", "/health/ready"}) {
      HttpResponse<String> r = send(HttpRequest.newBuilder(uri(path)).header("Origin", "https://status.example"));
      assertEquals("*", r.headers().firstValue("access-control-allow-origin").orElse(""), path + " " + r.statusCode());
    }
    HttpResponse<String> noOrigin = get("/health");
    assertEquals("*", noOrigin.headers().firstValue("access-control-allow-origin").orElse(""), "also without Origin, as the Go server");
    assertTrue(get("/metrics").headers().firstValue("access-control-allow-origin").isEmpty(), "/metrics is not for browsers");
  }

  @Test
  void optionsOfAHealthEndpointIsAnsweredWith200AndTheCorsHeaders() {
    for (String path : new String[] {"/health", "/health/live", "/health/ready"}) {
      // a browser's preflight, and a bare OPTIONS as the Go server's clients probe it
      for (HttpRequest.Builder req : new HttpRequest.Builder[] {
          HttpRequest.newBuilder(uri(path)).method("OPTIONS", HttpRequest.BodyPublishers.noBody())
              .header("Origin", "https://status.example").header("Access-Control-Request-Method", "GET")
              .header("Access-Control-Request-Headers", "content-type"),
          HttpRequest.newBuilder(uri(path)).method("OPTIONS", HttpRequest.BodyPublishers.noBody())}) {
        HttpResponse<String> r = send(req);
        assertEquals(200, r.statusCode(), path);
        assertEquals("*", r.headers().firstValue("access-control-allow-origin").orElse(""), path);
        assertEquals("GET, HEAD, OPTIONS", r.headers().firstValue("access-control-allow-methods").orElse(""), path);
        assertTrue(r.headers().firstValue("access-control-allow-headers").orElse("").toLowerCase().contains("content-type"), path);
        assertEquals("GET, HEAD, OPTIONS", r.headers().firstValue("allow").orElse(""), path);
        assertEquals("", r.body());
      }
    }
    HttpResponse<String> metrics = send(HttpRequest.newBuilder(uri("/metrics")).method("OPTIONS", HttpRequest.BodyPublishers.noBody()));
    assertEquals(404, metrics.statusCode());
  }

  @Test
  void otherPathsAndMethodsAreNotFound() {
    assertEquals(404, get("/ws").statusCode());
    assertEquals(404, get("/").statusCode());
    HttpResponse<String> post = send(HttpRequest.newBuilder(uri("/health")).POST(HttpRequest.BodyPublishers.ofString("{}")));
    assertEquals(404, post.statusCode());
    assertTrue(post.body().contains("/health/ready"), "says what the port serves: " + post.body());
  }

  @Test
  void notReadyWhenTheChecksFail() {
    endpoints.readinessFails = true;
    assertAnswer(get("/health/ready"), 503, "application/json", "{\"status\":\"DOWN\"}");
  }

  @Test
  void answersWhileEveryLoopOfVertxsPoolIsBlocked(Vertx vertx) throws InterruptedException {
    // shards run on these loops, and re-sharding may give a shard any of them
    try (BlockedLoops blocked = BlockedLoops.all(vertx)) {
      assertEquals(200, get("/health/live").statusCode());
      assertEquals(200, get("/health/ready").statusCode(), "vertx-health-check completes on the port's own loop");
      assertEquals(200, get("/metrics").statusCode());
      assertEquals(200, get("/health").statusCode());
    }
  }

  @Test
  void aPortInUseFailsTheDeploymentSayingWhatToDo(Vertx vertx, VertxTestContext test) throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      vertx.deployVerticle(new OpsVerticle(new OpsConfig("127.0.0.1", taken.getLocalPort(), 1_000), endpoints))
          .onComplete(test.failing(e -> test.verify(() -> {
            assertTrue(e.getMessage().contains("cannot listen on 127.0.0.1:" + taken.getLocalPort()), e.getMessage());
            assertTrue(e.getMessage().contains("OPS_PORT"), e.getMessage());
            test.completeNow();
          })));
      assertTrue(test.awaitCompletion(10, TimeUnit.SECONDS)); // the port stays taken until then
    }
  }

  private static void assertAnswer(HttpResponse<String> r, int status, String contentType, String body) {
    assertEquals(status, r.statusCode(), r.body());
    assertEquals(contentType, r.headers().firstValue("content-type").orElse(""));
    assertEquals("no-store", r.headers().firstValue("cache-control").orElse(""));
    assertEquals(body, r.body());
  }

  private HttpResponse<String> get(String path) {
    return send(HttpRequest.newBuilder(uri(path)));
  }

  private HttpResponse<String> send(HttpRequest.Builder request) {
    try {
      return http.send(request.timeout(TIMEOUT).build(), HttpResponse.BodyHandlers.ofString());
    } catch (Exception e) {
      throw new AssertionError(request.build().method() + " " + request.build().uri() + " on the operations port: " + e, e);
    }
  }

  private URI uri(String path) {
    return URI.create("http://127.0.0.1:" + ops.port() + path);
  }
}
