package io.odinws.auth;

import io.odinws.config.AuthConfig;
import io.odinws.ratelimit.HeldCounts;

/**
 * What every shard shares for authentication: all thread-safe.
 *
 * @param config   the {@code auth.*} settings
 * @param verifier checks tokens; null when authentication is off
 * @param users    authenticated connections per {@code sub}, server-wide
 * @param stats    outcomes, for the metrics
 */
public record AuthContext(AuthConfig config, TokenVerifier verifier, HeldCounts<String> users, AuthStats stats) {

  /** Authentication off: tokens are ignored and every channel is public. */
  public static AuthContext off(AuthConfig config) {
    return new AuthContext(config, null, new HeldCounts<>(), new AuthStats());
  }
}
