package io.odinws.auth;

import io.odinws.config.AuthConfig;

/**
 * What every shard shares for authentication: all thread-safe.
 *
 * @param config   the {@code auth.*} settings
 * @param verifier checks tokens; null when authentication is off
 * @param users    authenticated connections per {@code sub}, server-wide ({@code auth.maxConnectionsPerUser})
 * @param stats    outcomes, for the metrics
 */
public record AuthContext(AuthConfig config, TokenVerifier verifier, UserLimit users, AuthStats stats) {

  /** Authentication off: tokens are ignored and every channel is public. */
  public static AuthContext off(AuthConfig config) {
    return new AuthContext(config, null, UserLimit.of(config), new AuthStats());
  }
}
