package io.odinws.ops;

import io.odinws.http.PublicEndpoints;
import io.odinws.http.OpsEndpoint;

import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.odinws.config.OpsConfig;
import io.odinws.internal.VertxInternals;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.Router;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * The operations port ({@link OpsConfig}): the {@link OpsEndpoint}s on a vertx-web {@link Router}, on an
 * event loop of their own. A shard's loop can be busy for a whole fan-out and seconds behind when
 * overloaded; a probe queued behind that times out and gets a busy pod restarted. This loop is idle
 * between requests, so the kernel runs it as soon as a probe arrives, whatever the shards are doing.
 * Deployed only when the port is on. With {@code pages.enabled} it also serves the pages of issue 16
 * ({@link PageRoutes}), which never go on the public port.
 */
public final class OpsVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(OpsVerticle.class);
  private static final int IDLE_CLOSE_SECONDS = 30;
  private static final String PATHS = Arrays.stream(OpsEndpoint.values()).map(OpsEndpoint::path).collect(Collectors.joining(" "));

  private final OpsConfig config;
  private final PublicEndpoints endpoints;
  private final PagesSetup pagesSetup;
  private PageRoutes pages;
  private Context own;
  private EventLoopGroup loop;
  private HttpServer server;
  private volatile int port = OpsConfig.OFF;

  /** Without the pages. */
  public OpsVerticle(OpsConfig config, PublicEndpoints endpoints) {
    this(config, endpoints, null);
  }

  /** With the pages when {@code pages} is non-null and they are enabled. */
  public OpsVerticle(OpsConfig config, PublicEndpoints endpoints, PagesSetup pages) {
    this.config = config;
    this.endpoints = endpoints;
    this.pagesSetup = pages;
  }

  @Override
  public Future<?> start() {
    // Vert.x gives this verticle a loop of its pool, which a shard may share (re-sharding deploys more
    // shards round the pool). An HTTP server serves on the loop of the context it listens from, and
    // readiness completes on the caller's context: so listen from a context on a loop outside the pool.
    loop = VertxInternals.newEventLoopGroup(vertx, 1, new DefaultThreadFactory("odin-ops", true));
    own = VertxInternals.contextOn(vertx, loop.next());
    Promise<HttpServer> listening = Promise.promise();
    own.runOnContext(v -> {
      if (pagesSetup != null && pagesSetup.config().enabled()) {
        // sampled and streamed on this port's loop, like its requests
        pages = new PageRoutes(pagesSetup);
        pages.start(vertx);
      }
      vertx.createHttpServer(new HttpServerOptions()
              .setHttp2ClearTextEnabled(false) // probes and scrapers speak HTTP/1.1; no upgrade to honour
              .setIdleTimeout(IDLE_CLOSE_SECONDS)
              .setMaxInitialLineLength(4096)
              .setMaxHeaderSize(8192))
          .requestHandler(router())
          .listen(config.port(), config.host())
          .onComplete(listening);
    });
    return listening.future()
        .onSuccess(s -> {
          server = s;
          port = s.actualPort();
          LOG.info("event=ops_listening host={} port={} paths=\"{}\"", config.host(), port, paths());
        })
        .recover(e -> {
          stopPages(); // completed on this port's loop
          loop.shutdownGracefully();
          return Future.failedFuture(new IllegalStateException("cannot listen on " + config.host() + ":" + config.port()
              + " for operations: " + e.getMessage() + " (is another process using the port? set ops.port or OPS_PORT, or -1 to"
              + " serve /health and /metrics on the public port only)", e));
        });
  }

  private Router router() {
    Router router = Router.router(vertx);
    for (OpsEndpoint endpoint : OpsEndpoint.values()) {
      router.route(endpoint.path()).method(HttpMethod.GET).method(HttpMethod.HEAD)
          .handler(ctx -> endpoint.reply(endpoints).onSuccess(r ->
              send(withHeaders(ctx.response(), endpoint.headers()), r.status(), r.contentType(), r.body())));
      if (endpoint.cors()) {
        // Not vertx-web's CorsHandler: it answers a preflight with 204 and adds nothing to a request without
        // Origin, where the Go server (and the public port, OpsRoutes) answer OPTIONS with 200 and always say "*".
        router.route(endpoint.path()).method(HttpMethod.OPTIONS)
            .handler(ctx -> withHeaders(ctx.response(), endpoint.optionsHeaders())
                .putHeader(HttpHeaders.CONTENT_LENGTH, "0")
                .putHeader(HttpHeaders.CACHE_CONTROL, "no-store")
                .setStatusCode(200)
                .end());
      }
    }
    if (pages != null) {
      pages.mount(router);
    }
    // also other methods on these paths, as on the public port
    router.route().handler(ctx -> send(ctx.response(), 404, "text/plain", "Not Found (this port serves " + paths() + ")\n"));
    return router;
  }

  private static HttpServerResponse withHeaders(HttpServerResponse response, Map<String, String> headers) {
    headers.forEach(response::putHeader);
    return response;
  }

  private String paths() {
    return pages == null ? PATHS : PATHS + " " + PageRoutes.paths();
  }

  static void send(HttpServerResponse response, int status, String contentType, String body) {
    Buffer bytes = Buffer.buffer(body);
    response.setStatusCode(status)
        .putHeader(HttpHeaders.CONTENT_TYPE, contentType)
        // set here, not by Vert.x, so that HEAD says it too
        .putHeader(HttpHeaders.CONTENT_LENGTH, String.valueOf(bytes.length()))
        .putHeader(HttpHeaders.CACHE_CONTROL, "no-store")
        .end(bytes);
  }

  private void stopPages() {
    if (pages != null) {
      pages.stop(vertx);
      pages = null;
    }
  }

  /** The bound port; {@link OpsConfig#OFF} until listening. */
  public int port() {
    return port;
  }

  @Override
  public Future<?> stop() {
    Promise<Void> pagesStopped = Promise.promise();
    own.runOnContext(v -> {
      stopPages();
      pagesStopped.complete();
    });
    Future<Void> closed = pagesStopped.future().compose(v -> server == null ? Future.succeededFuture() : server.close());
    return closed.eventually(() -> {
      Promise<Void> stopped = Promise.promise();
      loop.shutdownGracefully(0, 1, TimeUnit.SECONDS).addListener(f -> stopped.complete());
      return stopped.future();
    });
  }
}
