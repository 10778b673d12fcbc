package io.odinws.config;

/**
 * The operations port: {@code /health}, {@code /health/live}, {@code /health/ready} and
 * {@code /metrics} answered on a thread of their own, so probes and scrapes are not queued behind a
 * busy shard. {@code port} -1 turns it off (the public port still serves the same paths); 0 binds any
 * free port. {@code shardStallMs}: {@code /health/live} fails when a shard's loop has finished no
 * batch and no once-a-second sweep for this long (stuck in one task, not merely busy or behind).
 */
public record OpsConfig(String host, int port, long shardStallMs) {

  public static final int OFF = -1;

  public boolean enabled() {
    return port != OFF;
  }
}
