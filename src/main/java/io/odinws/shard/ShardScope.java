package io.odinws.shard;

import io.odinws.stats.ShardStats;

/** What every connection of one shard shares: the shard's id, counters, limits, table, fan-out and authentication. */
record ShardScope(int id, ShardStats stats, ConnectionPolicy policy, ConnectionTable table, FanOut fanOut, Authenticator auth) {
}
