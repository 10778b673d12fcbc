package io.odinws.http;

import io.odinws.ops.Readiness;

/**
 * What the public port serves besides WebSockets, and the operations port serves alone. Called on a
 * shard's event loop, the router's or the operations port's: keep it quick and thread-safe.
 */
public interface PublicEndpoints {

  record Health(int httpStatus, String json) {
  }

  Health health();

  /** Liveness for the orchestrator: 503 only when the process should be restarted. */
  Health live();

  /** Readiness for load balancers: 200 only while the server should receive clients. */
  io.vertx.core.Future<Health> ready();

  /** Prometheus text exposition. */
  String metrics();
}
