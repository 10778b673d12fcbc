package io.odinws.ops;

import io.micrometer.core.instrument.MeterRegistry;
import io.odinws.config.PagesConfig;
import io.odinws.router.ShardRegistry;

import java.util.function.IntSupplier;

/**
 * What the operations port's pages need from the server.
 *
 * @param config     {@code pages.*}
 * @param wsPath     {@code ws.path}, for the market page's WebSocket URL
 * @param publicPort the public port actually bound; 0 or less until it listens (the operations port starts first)
 * @param meters     the registry {@code /metrics} scrapes, which the operator snapshot reads
 * @param shards     the running shards
 */
public record PagesSetup(PagesConfig config, String wsPath, IntSupplier publicPort, MeterRegistry meters, ShardRegistry shards) {
}
