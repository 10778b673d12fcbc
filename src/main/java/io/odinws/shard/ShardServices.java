package io.odinws.shard;

import io.odinws.auth.AuthContext;
import io.odinws.http.PublicEndpoints;
import io.odinws.stats.ServerMeters;
import io.odinws.recovery.History;
import io.odinws.recovery.KafkaReplay;
import io.odinws.router.ShardRegistry;
import io.odinws.shard.admission.Admission;

/** What every shard of a server shares: all thread-safe. */
public record ShardServices(ShardRegistry registry, PublicEndpoints endpoints, Admission admission, History history,
                            KafkaReplay kafkaReplay, ServerMeters meters, AuthContext auth) {
}
