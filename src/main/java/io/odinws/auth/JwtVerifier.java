package io.odinws.auth;

import io.odinws.config.AuthConfig;
import io.odinws.config.ConfigException;
import io.odinws.internal.JwsKey;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * Verifies compact JWS tokens (RFC 7519) signed with the one configured algorithm, against the keys
 * of {@link KeyFiles}, then checks their claims. Every failure is exactly one {@link Refusal}; nothing
 * is thrown to the caller. Synchronous, thread-safe and free of I/O: shard loops call it directly.
 *
 * <p>Decisions: a token without {@code exp} is accepted and never expires ({@link Identity#expiresAtMillis}
 * {@link Long#MAX_VALUE}): the issuer decides lifetimes. The leeway widens {@code exp}, {@code nbf} and
 * {@code iat} at the door only; the identity keeps the token's own {@code exp}. A {@code crit} header is
 * refused (no extension is understood). The signature is checked before any claim is read.
 */
public final class JwtVerifier implements TokenVerifier {

  /** Longer tokens are refused before any decoding. */
  public static final int MAX_TOKEN_CHARS = 8192;

  /** The shortest HS256 secret accepted (RFC 7518 3.2: at least the hash output, 256 bits). */
  public static final int MIN_HMAC_SECRET_BYTES = KeyFiles.MIN_HMAC_SECRET_BYTES;

  private static final Base64.Decoder B64 = Base64.getUrlDecoder();
  private static final Base64.Encoder B64_OUT = Base64.getUrlEncoder().withoutPadding();
  private static final Verification.Refused[] REFUSED = new Verification.Refused[Refusal.values().length];

  static {
    for (Refusal r : Refusal.values()) {
      REFUSED[r.ordinal()] = new Verification.Refused(r);
    }
  }

  private final String algorithm;
  private final String issuer;
  private final String audience;
  private final long leewayMillis;
  private final String channelsClaim;
  private final KeyFiles keys;
  private final LongSupplier clock;

  /**
   * Reads the keys (blocking file I/O: at startup).
   *
   * @param env the environment, for the variable {@link AuthConfig#hmacSecretEnv} names
   * @throws ConfigException when the secret or the keys are missing, too short or unreadable
   */
  public JwtVerifier(AuthConfig config, Map<String, String> env) {
    this(config, env, System::currentTimeMillis);
  }

  JwtVerifier(AuthConfig config, Map<String, String> env, LongSupplier clock) {
    this.algorithm = config.algorithm();
    this.issuer = config.issuer();
    this.audience = config.audience();
    this.leewayMillis = config.leewaySeconds() * 1000;
    this.channelsClaim = config.channelsClaim();
    this.keys = new KeyFiles(config, env);
    this.clock = clock;
  }

  /**
   * Re-reads the key files whose modification time or size changed and swaps the keys atomically; a
   * file that does not parse keeps its previous keys (logged {@code event=auth_keys_reload_failed}).
   * Blocking file I/O: call it from a timer off the event loops (every {@code auth.keyReloadMs}).
   *
   * @return whether the keys changed
   */
  public boolean reloadIfChanged() {
    return keys.reloadIfChanged();
  }

  /** How many verification keys are in force. */
  public int keyCount() {
    return keys.current().size();
  }

  @Override
  public Verification verify(String token) {
    try {
      return check(token);
    } catch (RuntimeException e) {
      return refused(Refusal.MALFORMED); // a defect of a decoder on hostile input, not a valid token
    }
  }

  /** {@link #verify} without its safety net, so tests see a decoder's exception. */
  Verification check(String token) {
    if (token == null || token.isEmpty() || token.length() > MAX_TOKEN_CHARS) {
      return refused(Refusal.MALFORMED);
    }
    int first = token.indexOf('.');
    int second = first < 0 ? -1 : token.indexOf('.', first + 1);
    if (first <= 0 || second < 0 || second == first + 1 || token.indexOf('.', second + 1) >= 0) {
      return refused(Refusal.MALFORMED);
    }
    String sigPart = token.substring(second + 1);
    byte[] headerBytes = decode(token, 0, first);
    byte[] payloadBytes = decode(token, first + 1, second);
    byte[] signature = decode(token, second + 1, token.length());
    if (headerBytes == null || payloadBytes == null || signature == null) {
      return refused(Refusal.MALFORMED);
    }
    JsonObject header = json(headerBytes);
    if (header == null) {
      return refused(Refusal.MALFORMED);
    }
    if (!algorithm.equals(header.getValue("alg"))) {
      return refused(Refusal.ALGORITHM); // none, the RS/HS confusion, any other algorithm
    }
    if (header.containsKey("crit")) {
      return refused(Refusal.MALFORMED);
    }
    Object kid = header.getValue("kid");
    if (kid != null && !(kid instanceof String)) {
      return refused(Refusal.MALFORMED);
    }
    // only the canonical encoding of a signature is accepted, so no other string verifies
    if (signature.length == 0 || !B64_OUT.encodeToString(signature).equals(sigPart)) {
      return refused(Refusal.SIGNATURE);
    }
    if (!signed(signature, token.substring(0, second).getBytes(StandardCharsets.US_ASCII), (String) kid)) {
      return refused(Refusal.SIGNATURE);
    }
    JsonObject claims = json(payloadBytes);
    if (claims == null) {
      return refused(Refusal.MALFORMED);
    }
    return claims(claims);
  }

  private boolean signed(byte[] signature, byte[] signingInput, String kid) {
    for (JwsKey key : keys.current().candidates(kid)) {
      if (key.verify(signature, signingInput)) {
        return true;
      }
    }
    return false;
  }

  private Verification claims(JsonObject claims) {
    long now = clock.getAsLong();
    Object exp = claims.getValue("exp");
    long expiresAt = Long.MAX_VALUE;
    if (exp != null) {
      if (!(exp instanceof Number n)) {
        return refused(Refusal.CLAIMS);
      }
      expiresAt = millis(n);
      if (now - leewayMillis >= expiresAt) {
        return refused(Refusal.EXPIRED);
      }
    }
    for (String name : new String[] {"nbf", "iat"}) {
      Object v = claims.getValue(name);
      if (v == null) {
        continue;
      }
      if (!(v instanceof Number n)) {
        return refused(Refusal.CLAIMS);
      }
      if (now + leewayMillis < millis(n)) {
        return refused(Refusal.NOT_YET_VALID);
      }
    }
    if (!issuer.isEmpty() && !issuer.equals(claims.getValue("iss"))) {
      return refused(Refusal.ISSUER);
    }
    if (!audience.isEmpty() && !audienceMatches(claims.getValue("aud"))) {
      return refused(Refusal.AUDIENCE);
    }
    if (!(claims.getValue("sub") instanceof String sub) || sub.isEmpty()) {
      return refused(Refusal.NO_SUBJECT);
    }
    List<String> channels = null;
    if (claims.containsKey(channelsClaim)) {
      if (!(claims.getValue(channelsClaim) instanceof JsonArray array)) {
        return refused(Refusal.CLAIMS);
      }
      channels = new ArrayList<>(array.size());
      for (Object c : array) {
        if (!(c instanceof String s)) {
          return refused(Refusal.CLAIMS);
        }
        channels.add(s);
      }
    }
    return new Verification.Valid(new Identity(sub, expiresAt, channels));
  }

  private boolean audienceMatches(Object aud) {
    if (aud instanceof String s) {
      return audience.equals(s);
    }
    if (aud instanceof JsonArray array) {
      for (Object a : array) {
        if (audience.equals(a)) {
          return true;
        }
      }
    }
    return false;
  }

  /** A NumericDate (seconds, possibly fractional) in milliseconds, saturated. */
  private static long millis(Number seconds) {
    double ms = seconds.doubleValue() * 1000;
    return (long) ms; // the cast saturates at Long.MIN_VALUE / MAX_VALUE
  }

  /** The base64url bytes of {@code token[from, to)}, or null when it is not base64url without padding. */
  private static byte[] decode(String token, int from, int to) {
    for (int i = from; i < to; i++) {
      char c = token.charAt(i);
      if (!(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_')) {
        return null;
      }
    }
    if ((to - from) % 4 == 1) {
      return null;
    }
    try {
      return B64.decode(token.substring(from, to));
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  /** The JSON object of {@code bytes}, or null. */
  private static JsonObject json(byte[] bytes) {
    try {
      Object v = io.vertx.core.json.Json.decodeValue(new String(bytes, StandardCharsets.UTF_8));
      return v instanceof JsonObject o ? o : null;
    } catch (RuntimeException e) {
      return null;
    }
  }

  private static Verification refused(Refusal refusal) {
    return REFUSED[refusal.ordinal()];
  }
}
