package io.odinws.tools.token;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.Key;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.List;

/**
 * Mints compact JWS tokens (HS256, RS256, ES256) for tests, the load generator and {@code odin-ws token}.
 * The signatures come from the JDK's providers, independently of the server's verification code, so a
 * round trip checks both. Stateless and thread-safe.
 */
public final class TokenMinter {

  public static final List<String> ALGORITHMS = List.of("HS256", "RS256", "ES256");

  private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();

  private TokenMinter() {
  }

  /**
   * The usual claims: {@code sub}, {@code iat} = now, {@code exp} = now + ttl (none when ttl &lt;= 0),
   * and {@code channels}, {@code iss}, {@code aud} when given (null or empty: left out).
   */
  public static JsonObject claims(String sub, long ttlSeconds, List<String> channels, String iss, String aud, long nowSeconds) {
    JsonObject c = new JsonObject().put("sub", sub).put("iat", nowSeconds);
    if (ttlSeconds > 0) {
      c.put("exp", nowSeconds + ttlSeconds);
    }
    if (channels != null) {
      c.put("channels", new JsonArray(List.copyOf(channels)));
    }
    if (iss != null && !iss.isEmpty()) {
      c.put("iss", iss);
    }
    if (aud != null && !aud.isEmpty()) {
      c.put("aud", aud);
    }
    return c;
  }

  /** An HS256 token for {@code sub} valid {@code ttlSeconds} from now (0: no exp), every channel permitted: the load generator's. */
  public static String hs256(byte[] secret, String sub, long ttlSeconds) {
    return mint("HS256", hmacKey(secret), null, claims(sub, ttlSeconds, null, null, null, System.currentTimeMillis() / 1000));
  }

  /** A token of {@code claims} signed with {@code key} ({@link #hmacKey} for HS256, a private key otherwise). */
  public static String mint(String alg, Key key, String kid, JsonObject claims) {
    JsonObject header = new JsonObject().put("alg", alg).put("typ", "JWT");
    if (kid != null) {
      header.put("kid", kid);
    }
    return sign(header.encode(), claims.encode(), alg, key);
  }

  /** A token of the given header and payload texts, as they are, signed with {@code alg}: tests build odd tokens with it. */
  public static String sign(String headerJson, String payloadJson, String alg, Key key) {
    String input = b64(headerJson) + "." + b64(payloadJson);
    return input + "." + B64.encodeToString(signature(alg, key, input.getBytes(StandardCharsets.US_ASCII)));
  }

  /** The raw JWS signature ({@code R||S} for ES256) of {@code input}. */
  public static byte[] signature(String alg, Key key, byte[] input) {
    try {
      switch (alg) {
        case "HS256": {
          Mac mac = Mac.getInstance("HmacSHA256");
          mac.init(new SecretKeySpec(key.getEncoded(), "HmacSHA256"));
          return mac.doFinal(input);
        }
        case "RS256":
          return sign("SHA256withRSA", (PrivateKey) key, input);
        case "ES256":
          return sign("SHA256withECDSAinP1363Format", (PrivateKey) key, input);
        default:
          throw new IllegalArgumentException("unknown algorithm " + alg + "; accepted: " + String.join(", ", ALGORITHMS));
      }
    } catch (GeneralSecurityException | ClassCastException e) {
      throw new IllegalArgumentException("cannot sign with " + alg + ": " + e.getMessage(), e);
    }
  }

  /** An HS256 key of the secret's bytes. */
  public static Key hmacKey(byte[] secret) {
    return new SecretKeySpec(secret, "HmacSHA256");
  }

  /** A private key from a PEM {@code PRIVATE KEY} (PKCS#8) block, RSA for RS256 or EC for ES256. */
  public static PrivateKey privateKey(String pem, String alg) {
    int begin = pem.indexOf("-----BEGIN PRIVATE KEY-----");
    int end = pem.indexOf("-----END PRIVATE KEY-----");
    if (begin < 0 || end < begin) {
      throw new IllegalArgumentException("no -----BEGIN PRIVATE KEY----- block (PKCS#8; convert with openssl pkcs8 -topk8 -nocrypt)");
    }
    String body = pem.substring(begin + "-----BEGIN PRIVATE KEY-----".length(), end).replaceAll("\\s", "");
    try {
      KeyFactory kf = KeyFactory.getInstance(alg.startsWith("RS") ? "RSA" : "EC");
      return kf.generatePrivate(new PKCS8EncodedKeySpec(Base64.getDecoder().decode(body)));
    } catch (GeneralSecurityException | IllegalArgumentException e) {
      throw new IllegalArgumentException("not a PKCS#8 " + (alg.startsWith("RS") ? "RSA" : "EC") + " private key: " + e.getMessage(), e);
    }
  }

  /** A PEM block of {@code der} ({@code PUBLIC KEY} for X.509 SubjectPublicKeyInfo, {@code PRIVATE KEY} for PKCS#8). */
  public static String pem(String type, byte[] der) {
    return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der)
        + "\n-----END " + type + "-----\n";
  }

  private static byte[] sign(String jca, PrivateKey key, byte[] input) throws GeneralSecurityException {
    Signature s = Signature.getInstance(jca);
    s.initSign(key);
    s.update(input);
    return s.sign();
  }

  private static String b64(String text) {
    return B64.encodeToString(text.getBytes(StandardCharsets.UTF_8));
  }
}
