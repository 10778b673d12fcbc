package io.odinws.auth;

import io.odinws.tools.token.TokenMinter;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Random mutations of valid tokens: none throws, none verifies unless it is the token itself. */
class JwtFuzzTest {

  static final long NOW = JwtVerifierTest.NOW;
  static final String ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ \u00e9\u0000";

  @TempDir
  Path dir;

  @Test
  void mutationsNeverThrowAndNeverVerify() throws IOException {
    KeyPair rsa = TestKeys.rsa();
    KeyPair ec = TestKeys.ec();
    Path rsPem = Files.writeString(dir.resolve("rs.pem"), TestKeys.publicPem(rsa));
    Path esPem = Files.writeString(dir.resolve("es.pem"), TestKeys.publicPem(ec));
    fuzz(new JwtVerifier(TestKeys.config("HS256", "", "", "", "", ""), Map.of("ODIN_JWT_SECRET", TestKeys.SECRET), () -> NOW),
        TokenMinter.mint("HS256", TokenMinter.hmacKey(TestKeys.SECRET.getBytes(StandardCharsets.UTF_8)), null, claims()), 10_000, 1);
    fuzz(new JwtVerifier(TestKeys.config("ES256", "", esPem.toString(), "", "", ""), Map.of(), () -> NOW),
        TokenMinter.mint("ES256", ec.getPrivate(), null, claims()), 3_000, 2);
    fuzz(new JwtVerifier(TestKeys.config("RS256", "", rsPem.toString(), "", "", ""), Map.of(), () -> NOW),
        TokenMinter.mint("RS256", rsa.getPrivate(), null, claims()), 3_000, 3);
  }

  private static JsonObject claims() {
    return TokenMinter.claims("alice", 600, List.of("BTC.*"), null, null, NOW / 1000);
  }

  private static void fuzz(JwtVerifier v, String token, int rounds, long seed) {
    assertInstanceOf(Verification.Valid.class, v.check(token));
    Random random = new Random(seed);
    int unchanged = 0;
    for (int i = 0; i < rounds; i++) {
      String m = mutate(token, random);
      Verification r;
      try {
        r = v.check(m);
      } catch (RuntimeException e) {
        throw new AssertionError("threw on mutation " + i + ": " + m, e);
      }
      if (m.equals(token)) {
        unchanged++;
        assertInstanceOf(Verification.Valid.class, r);
      } else {
        assertInstanceOf(Verification.Refused.class, r, () -> "verified a changed token: " + m);
      }
    }
    assertTrue(unchanged < rounds / 10, "the mutations change the token");
    assertEquals(v.check(token), v.verify(token));
  }

  private static String mutate(String token, Random random) {
    String[] parts = token.split("\\.", -1);
    StringBuilder sb = new StringBuilder(token);
    int kind = random.nextInt(7);
    switch (kind) {
      case 0 -> { // flip bits of one character
        int at = random.nextInt(sb.length());
        sb.setCharAt(at, (char) (sb.charAt(at) ^ (1 << random.nextInt(7))));
      }
      case 1 -> { // replace characters
        int n = 1 + random.nextInt(3);
        for (int k = 0; k < n; k++) {
          sb.setCharAt(random.nextInt(sb.length()), ALPHABET.charAt(random.nextInt(ALPHABET.length())));
        }
      }
      case 2 -> sb.setLength(random.nextInt(sb.length())); // truncate
      case 3 -> { // swap two parts
        int a = random.nextInt(3);
        int b = random.nextInt(3);
        String t = parts[a];
        parts[a] = parts[b];
        parts[b] = t;
        return String.join(".", parts);
      }
      case 4 -> sb.deleteCharAt(random.nextInt(sb.length())); // drop a character
      case 5 -> sb.insert(random.nextInt(sb.length() + 1), ALPHABET.charAt(random.nextInt(ALPHABET.length())));
      default -> { // one part replaced by another's, or repeated
        int a = random.nextInt(3);
        parts[a] = parts[random.nextInt(3)] + (random.nextBoolean() ? "" : parts[random.nextInt(3)]);
        return String.join(".", parts);
      }
    }
    return sb.toString();
  }
}
