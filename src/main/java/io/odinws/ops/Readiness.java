package io.odinws.ops;

import io.odinws.http.PublicEndpoints;

import io.odinws.stats.ServerState;

import io.odinws.ingest.IngestStats;
import io.odinws.router.ShardRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.healthchecks.CheckResult;
import io.vertx.ext.healthchecks.HealthChecks;
import io.vertx.ext.healthchecks.Status;

/**
 * {@code GET /health/ready} through vertx-health-check: ready only while every Kafka partition is
 * assigned and the broker answers, at least one shard takes connections, and the server is not
 * draining. Load balancers and Kubernetes route by it.
 */
public final class Readiness {

  private final HealthChecks checks;

  public Readiness(Vertx vertx, ShardRegistry shards, IngestStats ingest, ServerState state) {
    checks = HealthChecks.create(vertx)
        .register("kafka", p -> p.complete(ingest.assigned() && ingest.connected()
            ? Status.OK(new JsonObject().put("partitions", ingest.partitions()))
            : Status.KO(new JsonObject().put("error", ingest.assigned() ? "broker unreachable: " + ingest.lastError() : "partitions not assigned yet"))))
        .register("shards", p -> p.complete(shards.slots().isEmpty() ? Status.KO() : Status.OK(new JsonObject().put("count", shards.slots().size()))))
        .register("accepting", p -> p.complete(state.draining() ? Status.KO(new JsonObject().put("error", "shutting down")) : Status.OK()));
  }

  public Future<PublicEndpoints.Health> check() {
    return checks.checkStatus().map(this::toHealth);
  }

  private PublicEndpoints.Health toHealth(CheckResult result) {
    return new PublicEndpoints.Health(CheckResult.isUp(result) ? 200 : 503, result.toJson().encode());
  }
}
