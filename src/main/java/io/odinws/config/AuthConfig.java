package io.odinws.config;

import java.util.List;
import java.util.Map;

/**
 * Authentication and private topics ({@code auth.*}). Empty strings mean "not set".
 *
 * @param mode                  off, optional or required
 * @param algorithm             the one signature algorithm accepted: HS256, RS256 or ES256
 * @param hmacSecretFile        HS256: a file holding the secret (a mounted Kubernetes Secret)
 * @param hmacSecretEnv         HS256: the name of an environment variable holding the secret (used when no file is set)
 * @param publicKeyFile         RS256/ES256: a PEM file with one or more public keys
 * @param jwksFile              RS256/ES256: a JWKS file, re-read when it changes (key rotation without a restart)
 * @param issuer                required {@code iss}; empty: not checked
 * @param audience              required {@code aud}; empty: not checked
 * @param leewaySeconds         clock skew allowed on {@code exp}, {@code nbf} and {@code iat}
 * @param timeoutMs             required mode: an upgraded connection without a valid token after this long is closed
 * @param maxConnectionsPerUser simultaneous authenticated connections per {@code sub} on this server; 0: no limit
 * @param queryToken            whether a {@code token} query parameter on the upgrade is read
 * @param channelsClaim         the claim listing the channels a token permits; absent from a token: every channel
 * @param privateTopics         topic to the JSON pointers (RFC 6901) in its record values that name the record's owners
 * @param keyReloadMs           how often the key files are checked for changes
 */
public record AuthConfig(
    AuthMode mode,
    String algorithm,
    String hmacSecretFile,
    String hmacSecretEnv,
    String publicKeyFile,
    String jwksFile,
    String issuer,
    String audience,
    long leewaySeconds,
    long timeoutMs,
    int maxConnectionsPerUser,
    boolean queryToken,
    String channelsClaim,
    Map<String, List<String>> privateTopics,
    long keyReloadMs) {

  public static final List<String> ALGORITHMS = List.of("HS256", "RS256", "ES256");

  public boolean enabled() {
    return mode != AuthMode.OFF;
  }

  /** The private topics in effect: none when authentication is off, whatever {@code privateTopics} says. */
  public Map<String, List<String>> effectivePrivateTopics() {
    return enabled() ? privateTopics : Map.of();
  }
}
