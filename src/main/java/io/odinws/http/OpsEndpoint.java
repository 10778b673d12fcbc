package io.odinws.http;

import io.vertx.core.Future;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The health and metrics paths and how each is answered: one table for the operations port
 * ({@code ops.OpsVerticle}) and the public port ({@link OpsRoutes}), so both answer a path alike.
 */
public enum OpsEndpoint {
  HEALTH("/health", true),
  LIVE("/health/live", true),
  READY("/health/ready", true),
  METRICS("/metrics", false);

  /**
   * CORS for the health endpoints, as the Go server sent them: any origin may read them (a status page
   * or dashboard in the browser), on every response and on a preflight {@code OPTIONS}. Health holds
   * nothing private and is read without credentials, so {@code *} is safe. {@code /metrics} is for
   * Prometheus, not browsers, and stays same-origin.
   */
  private static final Map<String, String> CORS_HEADERS = corsHeaders();
  private static final String CORS_METHODS = "GET, HEAD, OPTIONS";
  /** The answer to {@code OPTIONS} on a CORS endpoint: 200, empty, with these. */
  private static final Map<String, String> OPTIONS_HEADERS = preflightHeaders();

  /** A complete response. */
  public record Reply(int status, String contentType, String body) {
  }

  private static final String JSON = "application/json";
  private static final String PROMETHEUS = "text/plain; version=0.0.4; charset=utf-8";
  /** Readiness whose checks did not complete is no readiness. */
  private static final PublicEndpoints.Health NOT_READY = new PublicEndpoints.Health(503, "{\"status\":\"DOWN\"}");

  private final String path;
  private final boolean cors;

  OpsEndpoint(String path, boolean cors) {
    this.path = path;
    this.cors = cors;
  }

  public String path() {
    return path;
  }

  /** Whether responses carry {@link #CORS_HEADERS} and {@code OPTIONS} is answered with 200. */
  public boolean cors() {
    return cors;
  }

  /** The headers every response of this endpoint carries besides its content headers. */
  public Map<String, String> headers() {
    return cors ? CORS_HEADERS : Map.of();
  }

  /** The headers of the empty 200 that answers {@code OPTIONS}; only CORS endpoints answer it. */
  public Map<String, String> optionsHeaders() {
    return OPTIONS_HEADERS;
  }

  private static Map<String, String> preflightHeaders() {
    Map<String, String> h = new LinkedHashMap<>(CORS_HEADERS);
    h.put("Allow", CORS_METHODS);
    return Collections.unmodifiableMap(h);
  }

  private static Map<String, String> corsHeaders() {
    Map<String, String> h = new LinkedHashMap<>();
    h.put("Access-Control-Allow-Origin", "*");
    h.put("Access-Control-Allow-Methods", CORS_METHODS);
    h.put("Access-Control-Allow-Headers", "Content-Type, Authorization, Cache-Control");
    h.put("Access-Control-Max-Age", "86400");
    return Collections.unmodifiableMap(h);
  }

  /** The endpoint at {@code path} (without a query string), or null when there is none. */
  public static OpsEndpoint at(String path) {
    for (OpsEndpoint e : values()) {
      if (e.path.equals(path)) {
        return e;
      }
    }
    return null;
  }

  /** The reply to a GET; never fails. Readiness completes on the caller's Vert.x context, the others at once. */
  public Future<Reply> reply(PublicEndpoints endpoints) {
    return switch (this) {
      case HEALTH -> Future.succeededFuture(json(endpoints.health()));
      case LIVE -> Future.succeededFuture(json(endpoints.live()));
      case READY -> endpoints.ready().otherwise(NOT_READY).map(OpsEndpoint::json);
      case METRICS -> Future.succeededFuture(new Reply(200, PROMETHEUS, endpoints.metrics()));
    };
  }

  private static Reply json(PublicEndpoints.Health health) {
    return new Reply(health.httpStatus(), JSON, health.json());
  }
}
