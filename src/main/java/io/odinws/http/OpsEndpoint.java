package io.odinws.http;

import io.odinws.ops.Readiness;

import io.vertx.core.Future;

/**
 * The health and metrics paths and how each is answered: one table for the operations port
 * ({@code ops.OpsVerticle}) and the public port ({@link OpsRoutes}), so both answer a path alike.
 */
public enum OpsEndpoint {
  HEALTH("/health"),
  LIVE("/health/live"),
  READY("/health/ready"),
  METRICS("/metrics");

  /** A complete response. */
  public record Reply(int status, String contentType, String body) {
  }

  private static final String JSON = "application/json";
  private static final String PROMETHEUS = "text/plain; version=0.0.4; charset=utf-8";
  /** Readiness whose checks did not complete is no readiness. */
  private static final PublicEndpoints.Health NOT_READY = new PublicEndpoints.Health(503, "{\"status\":\"DOWN\"}");

  private final String path;

  OpsEndpoint(String path) {
    this.path = path;
  }

  public String path() {
    return path;
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
