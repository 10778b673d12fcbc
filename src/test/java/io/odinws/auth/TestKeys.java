package io.odinws.auth;

import io.odinws.config.AuthConfig;
import io.odinws.config.AuthMode;
import io.odinws.tools.token.TokenMinter;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.math.BigInteger;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/** Keys made by the JDK for the tests, and their PEM and JWK forms. */
final class TestKeys {

  static final String SECRET = "a-test-secret-of-at-least-thirty-two-bytes!";

  private TestKeys() {
  }

  static KeyPair rsa() {
    try {
      KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
      g.initialize(2048);
      return g.generateKeyPair();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  static KeyPair ec() {
    try {
      KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
      g.initialize(new ECGenParameterSpec("secp256r1"));
      return g.generateKeyPair();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  static String publicPem(KeyPair... pairs) {
    StringBuilder sb = new StringBuilder();
    for (KeyPair p : pairs) {
      sb.append(TokenMinter.pem("PUBLIC KEY", p.getPublic().getEncoded()));
    }
    return sb.toString();
  }

  static JsonObject jwk(KeyPair pair, String kid) {
    JsonObject j = new JsonObject().put("kid", kid).put("use", "sig");
    if (pair.getPublic() instanceof RSAPublicKey rsa) {
      j.put("kty", "RSA").put("n", b64(unsigned(rsa.getModulus(), 0))).put("e", b64(unsigned(rsa.getPublicExponent(), 0)));
    } else {
      ECPublicKey ec = (ECPublicKey) pair.getPublic();
      j.put("kty", "EC").put("crv", "P-256")
          .put("x", b64(unsigned(ec.getW().getAffineX(), 32))).put("y", b64(unsigned(ec.getW().getAffineY(), 32)));
    }
    return j;
  }

  static String jwks(JsonObject... keys) {
    return new JsonObject().put("keys", new JsonArray(List.of((Object[]) keys))).encodePrettily();
  }

  static AuthConfig config(String alg, String secretFile, String publicKeyFile, String jwksFile, String iss, String aud) {
    return new AuthConfig(AuthMode.REQUIRED, alg, secretFile, "ODIN_JWT_SECRET", publicKeyFile, jwksFile, iss, aud,
        30, 10_000, 100, true, "channels", Map.of(), 5000);
  }

  private static byte[] unsigned(BigInteger v, int length) {
    byte[] b = v.toByteArray();
    if (b.length > 1 && b[0] == 0) {
      b = Arrays.copyOfRange(b, 1, b.length);
    }
    if (length > b.length) {
      byte[] padded = new byte[length];
      System.arraycopy(b, 0, padded, length - b.length, b.length);
      b = padded;
    }
    return b;
  }

  private static String b64(byte[] b) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
  }
}
