package io.odinws.ops;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.HostAndPort;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.StaticHandler;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.regex.Pattern;

/**
 * The pages of the operations port (issue 16) on its router: {@code /} redirects to the market page; {@code /market/},
 * {@code /operator/} and {@code /sdk/} are files of the class path's {@code webroot/} (clients/build.sh puts them
 * there at build time); {@code /api/pages/config} tells the market page where the WebSockets are and what to
 * show; {@code /api/operator} is the operator page's snapshot, {@code /api/operator/stream} the same once a
 * second as Server-Sent Events; the snapshot is sampled only while someone reads it. Confined to the operations port's loop: {@link #start} from it.
 */
final class PageRoutes {

  private static final Logger LOG = LoggerFactory.getLogger(PageRoutes.class);
  static final String NOT_BUILT = "pages not built: build with Node 20+ and npm (make build)\n";
  private static final long SAMPLE_MS = 1_000;
  /** The sampler stops this long after the last read when no stream is open: an idle server samples nothing. */
  static final long READ_IDLE_MS = 30_000;
  private static final int HEARTBEAT_EVERY = 15;
  /** Host names and IPv4 addresses as a Host header carries them; anything else falls back to the local address. */
  private static final Pattern HOST = Pattern.compile("[A-Za-z0-9._-]{1,253}");
  private static final Pattern IPV6 = Pattern.compile("\\[?([0-9A-Fa-f:.]{2,45})]?");
  /** Each directory and the file whose presence in webroot/ says the build put it there. */
  private static final List<String[]> SITES = List.of(
      new String[] {"market", "index.html"}, new String[] {"operator", "index.html"}, new String[] {"sdk", "odin-ws.min.js"});

  private final PagesSetup setup;
  private final OperatorStats stats;
  private final OperatorStreams streams = new OperatorStreams();
  private String latest;
  private Vertx vertx;
  private long timer = -1;
  private long ticks;
  private long lastReadNanos;
  private final long readIdleNanos;

  PageRoutes(PagesSetup setup) {
    this(setup, READ_IDLE_MS);
  }

  /** With the sampler stopping {@code readIdleMs} after the last read (tests). */
  PageRoutes(PagesSetup setup, long readIdleMs) {
    this.setup = setup;
    this.readIdleNanos = readIdleMs * 1_000_000;
    this.stats = new OperatorStats(setup.meters(), setup.shards());
    this.latest = stats.sample().toJson().encode();
  }

  /** The paths, for the operations port's log line and 404 text. */
  static String paths() {
    return "/ /market/ /operator/ /sdk/odin-ws.min.js /api/pages/config /api/operator /api/operator/stream";
  }

  void mount(Router router) {
    router.route("/").method(HttpMethod.GET).method(HttpMethod.HEAD).handler(ctx -> ctx.response().setStatusCode(302).putHeader(HttpHeaders.LOCATION, "/market/")
        .putHeader(HttpHeaders.CACHE_CONTROL, "no-store").putHeader(HttpHeaders.CONTENT_LENGTH, "0").end());
    ClassLoader loader = PageRoutes.class.getClassLoader();
    List<String> missing = SITES.stream().filter(site -> loader.getResource("webroot/" + site[0] + "/" + site[1]) == null)
        .map(site -> "/" + site[0] + "/").toList();
    if (!missing.isEmpty()) {
      LOG.warn("event=pages_not_built paths=\"{}\" action=\"build with Node 20+ and npm (make build); these paths answer 404 until then\"",
          String.join(" ", missing));
    }
    for (String[] site : SITES) {
      String dir = "/" + site[0];
      boolean built = !missing.contains(dir + "/");
      // "/market/*" also matches "/market", whose page would load its assets from "/": send it to "/market/"
      var route = router.route(dir + "/*").method(HttpMethod.GET).method(HttpMethod.HEAD).handler(ctx -> {
        if (ctx.request().path().equals(dir)) {
          ctx.response().setStatusCode(301).putHeader(HttpHeaders.LOCATION, dir + "/").putHeader(HttpHeaders.CONTENT_LENGTH, "0").end();
        } else if (!built) {
          OpsVerticle.send(ctx.response(), 404, "text/plain; charset=utf-8", NOT_BUILT);
        } else {
          // asset names carry no hash: browsers revalidate each time (If-Modified-Since, 304) rather than keep a stale page
          ctx.response().putHeader(HttpHeaders.CACHE_CONTROL, "no-cache").putHeader("X-Content-Type-Options", "nosniff");
          ctx.next();
        }
      });
      if (built) {
        // a route ending in * serves the path after its prefix: /market/main.js is webroot/market/main.js
        route.handler(StaticHandler.create("webroot/" + site[0])
            .setDirectoryListing(false)
            .setIncludeHidden(false)
            .setCachingEnabled(true)
            .setIndexPage("index.html"));
      }
    }
    router.get("/api/pages/config").handler(this::pagesConfig);
    router.get("/api/operator").handler(ctx -> OpsVerticle.send(ctx.response(), 200, "application/json", read()));
    router.get("/api/operator/stream").handler(ctx -> {
      if (!streams.open(ctx.response(), read())) {
        ctx.response().putHeader(HttpHeaders.RETRY_AFTER, "5");
        OpsVerticle.send(ctx.response(), 503, "text/plain; charset=utf-8",
            "too many operator streams open (" + OperatorStreams.MAX_STREAMS + "); poll /api/operator instead\n");
      }
    });
  }

  /** Call on the operations port's loop. Sampling starts with the first read, not here. */
  void start(Vertx vertx) {
    this.vertx = vertx;
  }

  /**
   * The latest snapshot for a reader. Sampled once a second only while someone reads (a stream open, or a read in
   * the last {@link #READ_IDLE_MS}): a reader after a quiet spell gets a fresh sample, whose rates and latency
   * cover the time since the previous one, and the following reads get one-second figures again.
   */
  private String read() {
    lastReadNanos = System.nanoTime();
    if (timer < 0 && vertx != null) {
      latest = stats.sample().toJson().encode();
      timer = vertx.setPeriodic(SAMPLE_MS, t -> tick());
    }
    return latest;
  }

  private void tick() {
    if (streams.size() == 0 && System.nanoTime() - lastReadNanos > readIdleNanos) {
      vertx.cancelTimer(timer);
      timer = -1;
      return;
    }
    latest = stats.sample().toJson().encode();
    streams.publish(latest);
    if (++ticks % HEARTBEAT_EVERY == 0) {
      streams.heartbeat();
    }
  }

  /** Whether the snapshot is being sampled now. */
  boolean sampling() {
    return timer >= 0;
  }

  void stop(Vertx vertx) {
    if (timer >= 0) {
      vertx.cancelTimer(timer);
      timer = -1;
    }
    streams.closeAll();
  }

  /** {@code {"wsUrl": ..., "tokens": [...]}}: the public port on the host name the browser used for this one. */
  private void pagesConfig(RoutingContext ctx) {
    int port = setup.publicPort().getAsInt();
    if (port <= 0) {
      ctx.response().putHeader(HttpHeaders.RETRY_AFTER, "1");
      OpsVerticle.send(ctx.response(), 503, "text/plain; charset=utf-8", "starting: the public port is not listening yet\n");
      return;
    }
    JsonObject body = new JsonObject()
        .put("wsUrl", "ws://" + host(ctx.request()) + ":" + port + setup.wsPath())
        .put("tokens", new JsonArray(List.copyOf(setup.config().marketTokens())));
    OpsVerticle.send(ctx.response(), 200, "application/json", body.encode());
  }

  /** The Host header's host name (IPv6 in brackets), else the address the request arrived on. */
  static String host(HttpServerRequest request) {
    HostAndPort authority = request.authority();
    String host = authority == null ? null : authority.host();
    if (host != null && HOST.matcher(host).matches()) {
      return host;
    }
    String local = host != null && IPV6.matcher(host).matches() ? host : request.localAddress().hostAddress();
    return local.indexOf(':') >= 0 ? "[" + local.replace("[", "").replace("]", "") + "]" : local;
  }
}
