package io.odinws.ops;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.List;
import java.util.Map;

/**
 * One second of the server as the operator page draws it ({@code GET /api/operator}, one per second on
 * {@code /api/operator/stream}). Counts and rates only: nothing here is configuration, an address, a key or a
 * token, so the page can be shown to anyone who reaches the operations port.
 *
 * @param ts                  when it was taken, epoch ms
 * @param uptimeSeconds       since the server started
 * @param connections         open WebSockets over all shards
 * @param shards              the shards running now
 * @param deliveriesPerSecond data messages written to clients over the last second
 * @param kafka               the ingest
 * @param latencyMs           delivery latency (Kafka poll received to written) over the last second; zeros without samples
 * @param slowClientCloses    connections closed for reading too slowly, since start
 * @param rejections          refusals since start by reason: connections, authentications, subscriptions
 * @param disconnects         WebSockets ended since start, by reason
 */
public record OperatorSnapshot(long ts, long uptimeSeconds, long connections, List<Shard> shards, double deliveriesPerSecond,
                               Kafka kafka, Latency latencyMs, long slowClientCloses, Map<String, Long> rejections,
                               Map<String, Long> disconnects) {

  /**
   * @param connections   sockets the shard holds (upgraded or not)
   * @param websockets    of which WebSockets
   * @param subscriptions channel subscriptions of its WebSockets
   */
  public record Shard(int id, long connections, long websockets, long subscriptions) {
  }

  /**
   * @param connected        every partition assigned and the broker answering
   * @param lag              records in Kafka not yet processed, over all partitions
   * @param recordsPerSecond records polled over the last second
   */
  public record Kafka(boolean connected, long lag, double recordsPerSecond) {
  }

  /** Milliseconds; from the histogram's buckets, so each is the bucket's interpolated value. */
  public record Latency(double p50, double p90, double p99, double max) {
    public static final Latency NONE = new Latency(0, 0, 0, 0);
  }

  public JsonObject toJson() {
    JsonArray shardArray = new JsonArray();
    for (Shard s : shards) {
      shardArray.add(new JsonObject().put("id", s.id()).put("connections", s.connections()).put("websockets", s.websockets())
          .put("subscriptions", s.subscriptions()));
    }
    return new JsonObject()
        .put("ts", ts)
        .put("uptimeSeconds", uptimeSeconds)
        .put("connections", connections)
        .put("shards", shardArray)
        .put("deliveriesPerSecond", deliveriesPerSecond)
        .put("kafka", new JsonObject().put("connected", kafka.connected()).put("lag", kafka.lag())
            .put("recordsPerSecond", kafka.recordsPerSecond()))
        .put("latencyMs", new JsonObject().put("p50", latencyMs.p50()).put("p90", latencyMs.p90()).put("p99", latencyMs.p99())
            .put("max", latencyMs.max()))
        .put("slowClientCloses", slowClientCloses)
        .put("rejections", counts(rejections))
        .put("disconnects", counts(disconnects));
  }

  private static JsonObject counts(Map<String, Long> counts) {
    JsonObject json = new JsonObject();
    counts.forEach(json::put);
    return json;
  }
}
