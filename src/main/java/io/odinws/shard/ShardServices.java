package io.odinws.shard;

import io.odinws.auth.AuthContext;
import io.odinws.envelope.DeflateDemand;
import io.odinws.http.PublicEndpoints;
import io.odinws.stats.ServerMeters;
import io.odinws.recovery.History;
import io.odinws.recovery.KafkaReplay;
import io.odinws.router.ShardRegistry;
import io.odinws.shard.admission.Admission;

/**
 * What every shard of a server shares: all thread-safe.
 *
 * @param deflate the connections that negotiated permessage-deflate, counted for the ingest (which compresses only
 *                while there is one)
 */
public record ShardServices(ShardRegistry registry, PublicEndpoints endpoints, Admission admission, History history,
                            KafkaReplay kafkaReplay, ServerMeters meters, AuthContext auth, DeflateDemand deflate) {

  /** Services whose negotiated connections nobody reads (no ingest compresses for them). */
  public ShardServices(ShardRegistry registry, PublicEndpoints endpoints, Admission admission, History history,
                       KafkaReplay kafkaReplay, ServerMeters meters, AuthContext auth) {
    this(registry, endpoints, admission, history, kafkaReplay, meters, auth, new DeflateDemand());
  }
}
