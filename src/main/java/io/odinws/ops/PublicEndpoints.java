package io.odinws.ops;

/** What the public port serves besides WebSockets. Called on a shard's event loop: keep it quick. */
public interface PublicEndpoints {

  record Health(int httpStatus, String json) {
  }

  Health health();

  /** Readiness for load balancers: 200 only while the server should receive clients. */
  io.vertx.core.Future<Health> ready();

  /** Prometheus text exposition. */
  String metrics();
}
