package io.odinws.auth;

/**
 * Checks a compact JWT against the configured key, algorithm, issuer, audience and clock. Called on
 * shard event loops: synchronous, thread-safe, no blocking I/O (key files are re-read elsewhere).
 */
public interface TokenVerifier {

  /** @param token the compact serialization, without a {@code Bearer } prefix */
  Verification verify(String token);
}
