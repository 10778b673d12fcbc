package io.odinws.internal;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.PubSecKeyOptions;
import io.vertx.ext.auth.impl.jose.JWK;
import io.vertx.ext.auth.impl.jose.JWS;

import java.util.function.Supplier;

/**
 * One JWS verification key of one algorithm (HS256, RS256, ES256), parsed and checked by
 * vertx-auth-common's JOSE code ({@code impl.jose.JWK}/{@code JWS}), which is not public API: this
 * adapter is the one place that depends on it. Thread-safe: each thread verifies with its own
 * {@code JWS} (Vert.x's serializes its callers on a shared {@code Mac}/{@code Signature}).
 */
public final class JwsKey {

  private final String algorithm;
  private final String kid;
  private final boolean ecdsa;
  /** RSA: the one signature length accepted, the modulus's in bytes (RFC 8017 8.2.2); 0 for the others. */
  private final int rsaSignatureBytes;
  private final ThreadLocal<JWS> jws;

  private JwsKey(String algorithm, Supplier<JWK> factory) {
    JWK first;
    try {
      first = factory.get();
    } catch (RuntimeException e) {
      throw new IllegalArgumentException(describe(e), e);
    }
    if (!algorithm.equals(first.getAlgorithm())) {
      throw new IllegalArgumentException("the key is for " + first.getAlgorithm() + ", not " + algorithm);
    }
    if (first.mac() == null && first.publicKey() == null) {
      throw new IllegalArgumentException("the key has no public key material");
    }
    this.algorithm = algorithm;
    this.kid = first.getId();
    this.ecdsa = "EC".equals(first.kty());
    this.rsaSignatureBytes = first.publicKey() instanceof java.security.interfaces.RSAPublicKey rsa
        ? (rsa.getModulus().bitLength() + 7) / 8 : 0;
    new JWS(first); // fails now, at load, rather than on a loop
    if (ecdsa) {
      byte[] probe = new byte[64];
      java.util.Arrays.fill(probe, (byte) 1);
      JWS.toASN1(probe); // linked now too: a Vert.x without it fails at startup
    }
    this.jws = ThreadLocal.withInitial(() -> new JWS(factory.get()));
  }

  /** An HMAC key ({@code HS256}) from the secret's bytes. */
  public static JwsKey hmac(String algorithm, byte[] secret) {
    byte[] copy = secret.clone();
    return new JwsKey(algorithm, () -> new JWK(new PubSecKeyOptions().setAlgorithm(algorithm).setBuffer(Buffer.buffer(copy))));
  }

  /** A public key ({@code RS256}, {@code ES256}) from one PEM {@code PUBLIC KEY} block. */
  public static JwsKey pem(String algorithm, String pemBlock) {
    return new JwsKey(algorithm, () -> new JWK(new PubSecKeyOptions().setAlgorithm(algorithm).setBuffer(pemBlock)));
  }

  /** A key from one JWK of a JWKS ({@code kty} RSA or EC); its {@code alg}, when absent, is {@code algorithm}. */
  public static JwsKey jwk(String algorithm, JsonObject jwk) {
    JsonObject json = jwk.copy();
    if (!json.containsKey("alg")) {
      json.put("alg", algorithm);
    }
    return new JwsKey(algorithm, () -> new JWK(json));
  }

  public String algorithm() {
    return algorithm;
  }

  /** The key's {@code kid}, or null. */
  public String kid() {
    return kid;
  }

  /**
   * Whether {@code signature} (as carried in the token: raw {@code R||S} for ECDSA) signs
   * {@code signingInput}. Never throws.
   */
  public boolean verify(byte[] signature, byte[] signingInput) {
    try {
      byte[] s = signature;
      if (ecdsa) {
        // RFC 7518 3.4: exactly R||S, 32 bytes each; converted here rather than by JWS's guess at the format
        if (s.length != 64) {
          return false;
        }
        s = JWS.toASN1(s);
      } else if (rsaSignatureBytes != 0 && s.length != rsaSignatureBytes) {
        // JWS pads a short signature with zeros, so a signature ending in a zero byte would verify without it
        return false;
      }
      return jws.get().verify(s, signingInput);
    } catch (RuntimeException e) {
      return false;
    }
  }

  private static String describe(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    String m = t.getMessage();
    return m == null ? t.getClass().getSimpleName() : m;
  }
}
