package io.odinws.shard;

import io.odinws.stats.ShardStats;

/** What every connection of one shard shares: the shard's id, counters, limits, table and fan-out. */
record ShardScope(int id, ShardStats stats, ConnectionPolicy policy, ConnectionTable table, FanOut fanOut) {
}
