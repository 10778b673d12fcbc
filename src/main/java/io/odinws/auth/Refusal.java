package io.odinws.auth;

/**
 * Why a token or an authentication was refused: the {@code auth_error} code a client sees, the
 * metric label (a bounded set) and a message that names the fix. docs/protocol.md lists them.
 */
public enum Refusal {
  MALFORMED("TOKEN_MALFORMED", "malformed", "The token is not a JWT (three base64url parts)"),
  ALGORITHM("TOKEN_ALGORITHM", "algorithm", "The token's algorithm is not the one this server accepts"),
  SIGNATURE("TOKEN_SIGNATURE", "signature", "The token's signature does not verify"),
  EXPIRED("TOKEN_EXPIRED", "expired", "The token has expired: fetch a new one"),
  NOT_YET_VALID("TOKEN_NOT_YET_VALID", "not_yet_valid", "The token is not valid yet (nbf or iat in the future)"),
  ISSUER("TOKEN_ISSUER", "issuer", "The token's iss is not the configured issuer"),
  AUDIENCE("TOKEN_AUDIENCE", "audience", "The token's aud does not include the configured audience"),
  NO_SUBJECT("TOKEN_NO_SUBJECT", "no_subject", "The token has no sub claim"),
  CLAIMS("TOKEN_CLAIMS", "claims", "A claim of the token has the wrong type"),
  SUBJECT_MISMATCH("SUBJECT_MISMATCH", "subject_mismatch", "A refresh must carry a token for the same sub as the connection's"),
  USER_CONNECTION_LIMIT("USER_CONNECTION_LIMIT", "user_limit", "Too many connections for this user"),
  AUTH_DISABLED("AUTH_DISABLED", "disabled", "Authentication is off on this server: every channel is open without a token");

  private final String code;
  private final String label;
  private final String message;

  Refusal(String code, String label, String message) {
    this.code = code;
    this.label = label;
    this.message = message;
  }

  /** The {@code code} of the {@code auth_error} reply. */
  public String code() {
    return code;
  }

  /** The {@code result} label of {@code ws_auth_total}. */
  public String label() {
    return label;
  }

  public String message() {
    return message;
  }
}
