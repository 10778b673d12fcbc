package io.odinws.tools.token;

import io.odinws.auth.Identity;
import io.odinws.auth.JwtVerifier;
import io.odinws.auth.Refusal;
import io.odinws.auth.Verification;
import io.odinws.config.AuthConfig;
import io.odinws.config.AuthMode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code odin-ws token}'s tokens verify with the server's {@link JwtVerifier}. */
class TokenCommandTest {

  static final String SECRET = "a-token-tool-secret-of-thirty-two-bytes-or-more";

  @TempDir
  Path dir;

  static AuthConfig config(String alg, String secretFile, String pem) {
    return new AuthConfig(AuthMode.REQUIRED, alg, secretFile, "ODIN_JWT_SECRET", pem, "", "https://auth.odin", "odin-ws",
        30, 10_000, 100, true, "channels", Map.of(), 5000);
  }

  static long now() {
    return System.currentTimeMillis() / 1000;
  }

  @Test
  void hs256FromTheEnvironmentAndFromAFile() throws IOException {
    String token = TokenCommand.run(new String[] {"--sub", "alice", "--ttl", "120", "--channels", "BTC.*, *.trade",
        "--iss", "https://auth.odin", "--aud", "odin-ws"}, Map.of("ODIN_JWT_SECRET", SECRET), now());
    JwtVerifier verifier = new JwtVerifier(config("HS256", "", ""), Map.of("ODIN_JWT_SECRET", SECRET));
    Identity id = assertInstanceOf(Verification.Valid.class, verifier.verify(token)).identity();
    assertEquals("alice", id.subject());
    assertEquals(List.of("BTC.*", "*.trade"), id.channels());
    long exp = id.expiresAtMillis() / 1000 - now();
    assertTrue(exp > 60 && exp <= 120, "exp = now + ttl: " + exp);

    Path secret = Files.writeString(dir.resolve("secret"), SECRET + "\n");
    String fromFile = TokenCommand.run(new String[] {"--sub", "bob", "--secret-file", secret.toString(),
        "--iss", "https://auth.odin", "--aud", "odin-ws"}, Map.of(), now());
    assertEquals("bob", assertInstanceOf(Verification.Valid.class, verifier.verify(fromFile)).identity().subject());

    JwtVerifier plain = new JwtVerifier(new AuthConfig(AuthMode.OPTIONAL, "HS256", "", "S", "", "", "", "", 30, 10_000, 100, true,
        "channels", Map.of(), 5000), Map.of("S", SECRET));
    Identity quick = assertInstanceOf(Verification.Valid.class,
        plain.verify(TokenMinter.hs256(SECRET.getBytes(java.nio.charset.StandardCharsets.UTF_8), "dave", 60))).identity();
    assertEquals("dave", quick.subject());

    String noAud = TokenCommand.run(new String[] {"--sub", "bob", "--secret-file", secret.toString(), "--iss", "https://auth.odin"},
        Map.of(), now());
    assertEquals(new Verification.Refused(Refusal.AUDIENCE), verifier.verify(noAud));
  }

  @Test
  void rs256AndEs256FromAPkcs8Key() throws Exception {
    for (String alg : List.of("RS256", "ES256")) {
      KeyPairGenerator g = KeyPairGenerator.getInstance(alg.equals("RS256") ? "RSA" : "EC");
      if (alg.equals("ES256")) {
        g.initialize(new ECGenParameterSpec("secp256r1"));
      } else {
        g.initialize(2048);
      }
      KeyPair pair = g.generateKeyPair();
      Path priv = Files.writeString(dir.resolve(alg + ".key"), TokenMinter.pem("PRIVATE KEY", pair.getPrivate().getEncoded()));
      Path pub = Files.writeString(dir.resolve(alg + ".pem"), TokenMinter.pem("PUBLIC KEY", pair.getPublic().getEncoded()));
      String token = TokenCommand.run(new String[] {"--sub", "carol", "--alg", alg.toLowerCase(), "--private-key-file", priv.toString(),
          "--iss", "https://auth.odin", "--aud", "odin-ws", "--ttl", "0"}, Map.of(), now());
      Identity id = assertInstanceOf(Verification.Valid.class,
          new JwtVerifier(config(alg, "", pub.toString()), Map.of()).verify(token), alg).identity();
      assertEquals(Long.MAX_VALUE, id.expiresAtMillis(), "--ttl 0: no exp");
    }
  }

  @Test
  void missingKeysAndBadOptionsNameTheFix() {
    IllegalArgumentException noSecret = assertThrows(IllegalArgumentException.class,
        () -> TokenCommand.run(new String[] {"--sub", "a"}, Map.of(), now()));
    assertTrue(noSecret.getMessage().contains("ODIN_JWT_SECRET"), noSecret.getMessage());
    IllegalArgumentException noKey = assertThrows(IllegalArgumentException.class,
        () -> TokenCommand.run(new String[] {"--sub", "a", "--alg", "RS256"}, Map.of(), now()));
    assertTrue(noKey.getMessage().contains("--private-key-file"), noKey.getMessage());
    assertThrows(IllegalArgumentException.class,
        () -> TokenCommand.run(new String[] {"--sub", "a", "--alg", "none"}, Map.of("ODIN_JWT_SECRET", SECRET), now()));
    IllegalArgumentException noSub = assertThrows(IllegalArgumentException.class,
        () -> TokenCommand.run(new String[] {}, Map.of("ODIN_JWT_SECRET", SECRET), now()));
    assertTrue(noSub.getMessage().contains("--sub"), noSub.getMessage());
  }
}
