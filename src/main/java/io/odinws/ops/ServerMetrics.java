package io.odinws.ops;

import io.odinws.auth.AuthStats;
import io.odinws.auth.Refusal;
import io.odinws.envelope.DeflateDemand;
import io.odinws.stats.SystemProbe;
import io.odinws.stats.DisconnectReason;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.odinws.ingest.IngestStats;
import io.odinws.envelope.SkipReason;
import io.odinws.router.RouterVerticle;
import io.odinws.router.ShardRegistry;
import io.odinws.router.ShardSlot;
import io.odinws.stats.ShardStats;
import io.odinws.shard.admission.Admission;

import java.util.function.ToDoubleFunction;
import java.util.function.ToLongFunction;

/**
 * Binds the server's own counters to Micrometer. Every meter reads counters the components
 * already keep (updated per batch or per event), so nothing on the delivery path touches Micrometer.
 * Names follow the replaced server's dashboards (ODIN-REFERENCE.md).
 */
public final class ServerMetrics {

  private ServerMetrics() {
  }

  public static void bind(MeterRegistry m, ShardRegistry shards, IngestStats ingest, RouterVerticle router, Admission admission,
                          AuthStats auth, DeflateDemand deflate) {
    Gauge.builder("ws_connections_active", shards, r -> sumShards(r, s -> s.stats().webSockets()))
        .description("Open WebSocket connections").register(m);
    Gauge.builder("ws_connections_max", shards, ShardRegistry::totalCapacity)
        .description("Connection capacity over all shards").register(m);
    Gauge.builder("ws_compression_connections", deflate, DeflateDemand::connections)
        .description("Open WebSocket connections that negotiated permessage-deflate").register(m);
    // Per shard, for every shard that joins (re-sharding adds some; removed ones read 0).
    shards.onAdd(slot -> {
      int id = slot.id();
      Gauge.builder("ws_shard_connections", shards, r -> bySlot(r, id, s -> s.connections().get()))
          .tag("shard_id", String.valueOf(id)).description("Sockets held by a shard").register(m);
      Gauge.builder("ws_shard_subscriptions", shards, r -> bySlot(r, id, s -> s.stats().subscriptions()))
          .tag("shard_id", String.valueOf(id)).description("Subscriptions held by a shard").register(m);
      ShardStats stats = slot.stats();
      FunctionCounter.builder("ws_shard_bytes_sent", stats, ShardStats::bytesSent)
          .tag("shard_id", String.valueOf(id)).description("Data bytes written by a shard").register(m);
    });
    counter(m, "ws_connections", "Sockets accepted and given to a shard", router, r -> r.acceptedTotal());
    // Every upgrade that did not become a WebSocket: refused (each refusal also has its own counter below) or malformed.
    counter(m, "ws_connections_failed", "WebSocket upgrades refused or malformed", shards,
        r -> sumAll(r, s -> s.handshakesFailed()) + router.rejectedFull() + router.rejectedDraining());
    String capacity = "Upgrades refused with 503: every shard full, shutting down, or the resource guard tripped";
    FunctionCounter.builder("ws_capacity_rejections", router, r -> r.rejectedFull())
        .tag("reason", "full").description(capacity).register(m);
    FunctionCounter.builder("ws_capacity_rejections", router, r -> r.rejectedDraining())
        .tag("reason", "shutting_down").description(capacity).register(m);
    for (String reason : new String[] {"cpu", "heap"}) {
      FunctionCounter.builder("ws_capacity_rejections", admission, a -> a.refused(reason))
          .tag("reason", reason).description(capacity).register(m);
    }
    String limited = "Connections refused with 429 by the connection-rate and per-address limits";
    FunctionCounter.builder("ws_connection_rate_limited", admission, a -> a.refused("ip_rate"))
        .tag("type", "ip").description(limited).register(m);
    FunctionCounter.builder("ws_connection_rate_limited", admission, a -> a.refused("global_rate"))
        .tag("type", "global").description(limited).register(m);
    FunctionCounter.builder("ws_connection_rate_limited", admission, a -> a.refused("ip_connections"))
        .tag("type", "ip_connections").description(limited).register(m);
    String deadlines = "Sockets the server closed when a deadline passed, by reason";
    FunctionCounter.builder("ws_sockets_closed", shards, r -> sumAll(r, s -> s.handshakeTimeouts()))
        .tag("reason", "handshake_timeout").description(deadlines).register(m);
    for (DisconnectReason reason : new DisconnectReason[] {DisconnectReason.TOKEN_EXPIRED, DisconnectReason.AUTH_TIMEOUT}) {
      FunctionCounter.builder("ws_sockets_closed", shards, r -> sumAll(r, s -> s.disconnects(reason)))
          .tag("reason", reason.label).description(deadlines).register(m);
    }
    counter(m, "ws_origin_rejections", "Upgrades refused with 403: Origin not in the allow-list", admission, a -> a.refused("origin"));
    counter(m, "ws_messages_sent", "Data messages written to clients", shards, r -> sumAll(r, s -> s.messagesSent()));
    counter(m, "ws_bytes_sent", "Data bytes written to clients", shards, r -> sumAll(r, s -> s.bytesSent()));
    counter(m, "ws_socket_flushes", "Fan-out flushes of a connection: one write syscall each, for all the frames queued to it",
        shards, r -> sumAll(r, s -> s.socketFlushes()));
    counter(m, "ws_messages_received", "Text messages received from clients", shards, r -> sumAll(r, s -> s.messagesReceived()));
    counter(m, "ws_bytes_received", "Bytes read from client sockets (HTTP and WebSocket)", shards, r -> sumAll(r, s -> s.bytesReceived()));
    counter(m, "ws_dropped_broadcasts", "Batches a shard could not take (over 10,000 behind)", shards, r -> sumAll(r, s -> s.droppedBatches()));
    counter(m, "ws_connection_errors", "Connections closed with 1011 after an unexpected error", shards, r -> sumAll(r, s -> s.connectionErrors()));
    counter(m, "ws_rate_limited_messages", "Inbound messages dropped by the per-connection rate limit", shards,
        r -> sumAll(r, s -> s.rateLimitedMessages()));
    counter(m, "ws_slow_clients_disconnected", "Connections closed with 1008 for reading too slowly", shards,
        r -> sumAll(r, s -> s.slowClientsClosed()));
    counter(m, "ws_conflated_messages", "Live messages of latest categories a slow connection skipped for a newer one of the same channel",
        shards, r -> sumAll(r, s -> s.conflatedMessages()));
    for (DisconnectReason reason : DisconnectReason.values()) {
      FunctionCounter.builder("ws_disconnects", shards, r -> sumAll(r, s -> s.disconnects(reason)))
          .tag("reason", reason.label).tag("initiated_by", reason.initiatedBy)
          .description("WebSocket connections ended, by reason").register(m);
    }
    String authentications = "Authentications, at the upgrade and by auth message, by result";
    FunctionCounter.builder("ws_auth", auth, a -> a.accepted(false)).tag("result", "ok").description(authentications).register(m);
    FunctionCounter.builder("ws_auth", auth, a -> a.accepted(true)).tag("result", "refresh").description(authentications).register(m);
    for (Refusal refusal : Refusal.values()) {
      FunctionCounter.builder("ws_auth", auth, a -> a.refusals(refusal)).tag("result", refusal.label())
          .description(authentications).register(m);
    }
    for (AuthStats.SubscriptionRefusal reason : AuthStats.SubscriptionRefusal.values()) {
      FunctionCounter.builder("ws_subscriptions_refused", auth, a -> a.subscriptionsRefused(reason)).tag("reason", reason.label)
          .description("Subscriptions refused for want of an identity or a permission, by reason").register(m);
    }
    counter(m, "ws_replay_requests", "Reconnects (and subscribes with last_offset) that asked for recovery", shards,
        r -> sumAll(r, s -> s.replayRequests()));
    counter(m, "ws_replayed_messages", "Messages sent as replay:message", shards, r -> sumAll(r, s -> s.replayedMessages()));
    counter(m, "ws_snapshot_messages", "Messages sent as snapshot:message (snapshot on subscribe)", shards,
        r -> sumAll(r, s -> s.snapshotMessages()));
    counter(m, "ws_private_deliveries", "Private records written to their owners' connections (live and replayed)", shards,
        r -> sumAll(r, s -> s.privateDeliveries()));
    counter(m, "ws_replay_channels_not_recovered", "Channels answered recovered:false", shards,
        r -> sumAll(r, s -> s.channelsNotRecovered()));
    counter(m, "ws_kafka_messages_received", "Records polled from Kafka", ingest, IngestStats::received);
    counter(m, "ws_kafka_messages_compressed", "Live messages given a permessage-deflate frame, once each", ingest, IngestStats::compressed);
    counter(m, "ws_compression_saved_bytes", "Bytes the compressed frames are shorter than the plain ones, per message (not per delivery)",
        ingest, IngestStats::compressionSavedBytes);
    for (SkipReason reason : SkipReason.values()) {
      FunctionCounter.builder("ws_kafka_records_skipped", ingest, s -> s.skipped(reason))
          .tag("reason", reason.label).description("Records that never reach a client, by reason").register(m);
    }
    Gauge.builder("ws_kafka_connected", ingest, s -> s.assigned() && s.connected() ? 1 : 0)
        .description("1 while every partition is assigned and the broker answers").register(m);
    Gauge.builder("ws_memory_bytes", () -> SystemProbe.heap().getUsed()).description("Heap in use").register(m);
    Gauge.builder("ws_cpu_usage_percent", SystemProbe::cpuPercent).description("Process CPU, percent of all cores").register(m);
    Gauge.builder("ws_shard_cpu_percent", admission, a -> a.guard().lastCpuPercent())
        .description("CPU of the shards' event loops, percent of the cores they can use, as the resource guard last sampled it").register(m);
  }

  private static <T> void counter(MeterRegistry m, String name, String description, T source, ToDoubleFunction<T> f) {
    FunctionCounter.builder(name, source, f).description(description).register(m);
  }

  private static double sumShards(ShardRegistry r, ToLongFunction<ShardSlot> f) {
    long sum = 0;
    for (ShardSlot s : r.slots()) {
      sum += f.applyAsLong(s);
    }
    return sum;
  }

  /** Counters over every shard that ever ran, so re-sharding never makes them go back. */
  private static double sumAll(ShardRegistry r, ToLongFunction<ShardStats> f) {
    long sum = 0;
    for (ShardStats s : r.allStats()) {
      sum += f.applyAsLong(s);
    }
    return sum;
  }

  private static double bySlot(ShardRegistry r, int id, ToLongFunction<ShardSlot> f) {
    for (ShardSlot s : r.slots()) {
      if (s.id() == id) {
        return f.applyAsLong(s);
      }
    }
    return 0;
  }
}
