package io.odinws.auth;

import io.odinws.config.AuthConfig;
import io.odinws.config.ConfigException;
import io.odinws.tools.token.TokenMinter;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.Key;
import java.security.KeyPair;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class JwtVerifierTest {

  static final long NOW = 1_800_000_000_000L;
  static final long NOW_S = NOW / 1000;
  static final Map<String, String> ENV = Map.of("ODIN_JWT_SECRET", TestKeys.SECRET);
  static final Key HMAC = TokenMinter.hmacKey(TestKeys.SECRET.getBytes(StandardCharsets.UTF_8));
  static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();

  static KeyPair rsa;
  static KeyPair rsa2;
  static KeyPair ec;
  static KeyPair ec2;

  @TempDir
  Path dir;

  @BeforeAll
  static void keys() {
    rsa = TestKeys.rsa();
    rsa2 = TestKeys.rsa();
    ec = TestKeys.ec();
    ec2 = TestKeys.ec();
  }

  JwtVerifier hs256() {
    return verifier(TestKeys.config("HS256", "", "", "", "", ""));
  }

  JwtVerifier verifier(AuthConfig config) {
    return new JwtVerifier(config, ENV, () -> NOW);
  }

  JwtVerifier pem(String alg, KeyPair... pairs) throws IOException {
    Path f = Files.writeString(dir.resolve(alg + ".pem"), TestKeys.publicPem(pairs));
    return verifier(TestKeys.config(alg, "", f.toString(), "", "", ""));
  }

  static JsonObject claims() {
    return TokenMinter.claims("alice", 600, null, null, null, NOW_S);
  }

  static String hs(JsonObject claims) {
    return TokenMinter.mint("HS256", HMAC, null, claims);
  }

  static Identity valid(Verification v) {
    return assertInstanceOf(Verification.Valid.class, v, () -> "expected valid, got " + v).identity();
  }

  static void refused(Refusal expected, Verification v) {
    assertEquals(new Verification.Refused(expected), v);
  }

  @Test
  void validTokensOfEachAlgorithm() throws IOException {
    Identity id = valid(hs256().verify(hs(claims())));
    assertEquals("alice", id.subject());
    assertEquals((NOW_S + 600) * 1000, id.expiresAtMillis());
    assertNull(id.channels(), "no channels claim: every channel");

    valid(pem("RS256", rsa).verify(TokenMinter.mint("RS256", rsa.getPrivate(), null, claims())));
    valid(pem("ES256", ec).verify(TokenMinter.mint("ES256", ec.getPrivate(), null, claims())));
  }

  @Test
  void everyPemBlockOfTheFileIsAKey() throws IOException {
    JwtVerifier v = pem("RS256", rsa, rsa2);
    assertEquals(2, v.keyCount());
    valid(v.verify(TokenMinter.mint("RS256", rsa2.getPrivate(), null, claims())));
    valid(v.verify(TokenMinter.mint("RS256", rsa.getPrivate(), null, claims())));
  }

  @Test
  void theSecretFileLosesItsTrailingNewline() throws IOException {
    Path f = Files.writeString(dir.resolve("secret"), TestKeys.SECRET + "\n");
    JwtVerifier v = new JwtVerifier(TestKeys.config("HS256", f.toString(), "", "", "", ""), Map.of(), () -> NOW);
    valid(v.verify(hs(claims())));
  }

  @Test
  void timeClaims() {
    JwtVerifier v = hs256();
    refused(Refusal.EXPIRED, v.verify(hs(claims().put("exp", NOW_S - 31))));
    refused(Refusal.NOT_YET_VALID, v.verify(hs(claims().put("nbf", NOW_S + 31))));
    refused(Refusal.NOT_YET_VALID, v.verify(hs(claims().put("iat", NOW_S + 31))));
    // within the 30 s leeway
    valid(v.verify(hs(claims().put("exp", NOW_S - 29))));
    valid(v.verify(hs(claims().put("nbf", NOW_S + 29).put("iat", NOW_S + 29))));
    Identity forever = valid(v.verify(hs(TokenMinter.claims("bob", 0, null, null, null, NOW_S))));
    assertEquals(Long.MAX_VALUE, forever.expiresAtMillis(), "no exp: never expires");
    assertFalse(forever.expired(Long.MAX_VALUE - 1));
    refused(Refusal.CLAIMS, v.verify(hs(claims().put("exp", "soon"))));
    refused(Refusal.CLAIMS, v.verify(hs(claims().put("nbf", true))));
    valid(v.verify(hs(claims().put("exp", 1e300))));
  }

  @Test
  void aTokenOfAnotherKeyOrTamperedIsRefused() throws IOException {
    Key other = TokenMinter.hmacKey("another-secret-of-at-least-thirty-two-bytes".getBytes(StandardCharsets.UTF_8));
    refused(Refusal.SIGNATURE, hs256().verify(TokenMinter.mint("HS256", other, null, claims())));
    refused(Refusal.SIGNATURE, pem("RS256", rsa).verify(TokenMinter.mint("RS256", rsa2.getPrivate(), null, claims())));
    refused(Refusal.SIGNATURE, pem("ES256", ec).verify(TokenMinter.mint("ES256", ec2.getPrivate(), null, claims())));

    String good = hs(claims());
    String[] p = good.split("\\.");
    String bobPayload = B64.encodeToString(claims().put("sub", "bob").encode().getBytes(StandardCharsets.UTF_8));
    refused(Refusal.SIGNATURE, hs256().verify(p[0] + "." + bobPayload + "." + p[2]));
    refused(Refusal.SIGNATURE, hs256().verify(p[0] + "." + p[1] + "."));
  }

  @Test
  void algNoneIsRefusedWithOrWithoutASignature() {
    String header = B64.encodeToString("{\"alg\":\"none\",\"typ\":\"JWT\"}".getBytes(StandardCharsets.UTF_8));
    String payload = B64.encodeToString(claims().encode().getBytes(StandardCharsets.UTF_8));
    JwtVerifier v = hs256();
    refused(Refusal.ALGORITHM, v.verify(header + "." + payload + "."));
    refused(Refusal.ALGORITHM, v.verify(header + "." + payload + "." + hs(claims()).split("\\.")[2]));
    String noAlg = B64.encodeToString("{\"typ\":\"JWT\"}".getBytes(StandardCharsets.UTF_8));
    refused(Refusal.ALGORITHM, v.verify(noAlg + "." + payload + "." + hs(claims()).split("\\.")[2]));
  }

  @Test
  void theRsHsConfusionIsRefused() throws IOException {
    JwtVerifier v = pem("RS256", rsa);
    // HS256 with the public key's PEM text (and its DER bytes) as the HMAC secret
    byte[] pemBytes = TestKeys.publicPem(rsa).getBytes(StandardCharsets.US_ASCII);
    refused(Refusal.ALGORITHM, v.verify(TokenMinter.mint("HS256", TokenMinter.hmacKey(pemBytes), null, claims())));
    refused(Refusal.ALGORITHM, v.verify(TokenMinter.mint("HS256", TokenMinter.hmacKey(rsa.getPublic().getEncoded()), null, claims())));
    // and the other way round: an RS256 or ES256 token on an HS256 server
    refused(Refusal.ALGORITHM, hs256().verify(TokenMinter.mint("RS256", rsa.getPrivate(), null, claims())));
    refused(Refusal.ALGORITHM, pem("ES256", ec).verify(TokenMinter.mint("RS256", rsa.getPrivate(), null, claims())));
  }

  @Test
  void issuerAndAudience() {
    JwtVerifier v = verifier(TestKeys.config("HS256", "", "", "", "https://auth.odin", "odin-ws"));
    JsonObject ok = TokenMinter.claims("alice", 600, null, "https://auth.odin", "odin-ws", NOW_S);
    valid(v.verify(hs(ok)));
    refused(Refusal.ISSUER, v.verify(hs(ok.copy().put("iss", "https://evil"))));
    refused(Refusal.ISSUER, v.verify(hs(TokenMinter.claims("alice", 600, null, null, "odin-ws", NOW_S))));
    refused(Refusal.AUDIENCE, v.verify(hs(ok.copy().put("aud", "other"))));
    refused(Refusal.AUDIENCE, v.verify(hs(ok.copy().remove("aud") == null ? ok : withoutAud(ok))));
    valid(v.verify(hs(ok.copy().put("aud", new JsonArray().add("other").add("odin-ws")))));
    refused(Refusal.AUDIENCE, v.verify(hs(ok.copy().put("aud", new JsonArray().add("other")))));
    // not configured: not checked
    valid(hs256().verify(hs(ok.copy().put("iss", "anyone").put("aud", 42))));
  }

  private static JsonObject withoutAud(JsonObject c) {
    JsonObject copy = c.copy();
    copy.remove("aud");
    return copy;
  }

  @Test
  void subjectAndChannels() {
    JwtVerifier v = hs256();
    JsonObject noSub = claims();
    noSub.remove("sub");
    refused(Refusal.NO_SUBJECT, v.verify(hs(noSub)));
    refused(Refusal.NO_SUBJECT, v.verify(hs(claims().put("sub", ""))));
    refused(Refusal.NO_SUBJECT, v.verify(hs(claims().put("sub", 42))));
    Identity id = valid(v.verify(hs(TokenMinter.claims("alice", 600, List.of("BTC.*", "*.trade"), null, null, NOW_S))));
    assertEquals(List.of("BTC.*", "*.trade"), id.channels());
    assertTrue(id.permits("BTC.balances") && id.permits("ETH.trade") && !id.permits("ETH.balances"));
    assertEquals(List.of(), valid(v.verify(hs(claims().put("channels", new JsonArray())))).channels());
    refused(Refusal.CLAIMS, v.verify(hs(claims().put("channels", "BTC.*"))));
    refused(Refusal.CLAIMS, v.verify(hs(claims().put("channels", new JsonArray().add("BTC.*").add(7)))));
    refused(Refusal.CLAIMS, v.verify(hs(claims().putNull("channels"))));
  }

  @Test
  void garbageIsMalformed() {
    JwtVerifier v = hs256();
    Random random = new Random(15);
    byte[] bytes = new byte[300];
    random.nextBytes(bytes);
    for (String garbage : new String[] {null, "", "a.b", "...", "..", "a..b", ".b.c", "a.b.c.d", "abc", "Bearer x.y.z",
        new String(bytes, StandardCharsets.ISO_8859_1), "e30.e30.e30", "a.b.c", "YQ.YQ.YQ",
        "x".repeat(100 * 1024), hs(claims()) + "x".repeat(JwtVerifier.MAX_TOKEN_CHARS)}) {
      Verification r = v.verify(garbage);
      assertInstanceOf(Verification.Refused.class, r, () -> "accepted: " + garbage);
      if (garbage != null && !garbage.equals("e30.e30.e30")) {
        refused(Refusal.MALFORMED, r);
      }
    }
    refused(Refusal.ALGORITHM, v.verify("e30.e30.e30"), "{} header: no alg");
    String deep = B64.encodeToString("[".repeat(6000).getBytes(StandardCharsets.US_ASCII));
    refused(Refusal.MALFORMED, v.check(deep + ".e30.e30"), "nesting far deeper than any header");
    String deepObject = B64.encodeToString(("{\"a\":".repeat(1001) + "1" + "}".repeat(1001)).getBytes(StandardCharsets.US_ASCII));
    assertTrue(deepObject.length() < JwtVerifier.MAX_TOKEN_CHARS - 8);
    refused(Refusal.MALFORMED, v.check(deepObject + ".e30.e30"), "deeper than Jackson's nesting limit");
    // signed, but the payload is not a JSON object
    refused(Refusal.MALFORMED, v.verify(TokenMinter.sign("{\"alg\":\"HS256\"}", "[1,2]", "HS256", HMAC)));
    refused(Refusal.MALFORMED, v.verify(TokenMinter.sign("{\"alg\":\"HS256\"}", "{\"sub\":", "HS256", HMAC)));
    refused(Refusal.MALFORMED, v.verify(TokenMinter.sign("{\"alg\":\"HS256\",\"crit\":[\"b64\"]}", claims().encode(), "HS256", HMAC)));
  }

  static void refused(Refusal expected, Verification v, String why) {
    assertEquals(new Verification.Refused(expected), v, why);
  }

  @Test
  void configurationErrorsAreConfigExceptions() throws IOException {
    AuthConfig hs = TestKeys.config("HS256", "", "", "", "", "");
    ConfigException missing = assertThrows(ConfigException.class, () -> new JwtVerifier(hs, Map.of()));
    assertTrue(missing.getMessage().contains("ODIN_JWT_SECRET"), missing.getMessage());
    ConfigException shortSecret = assertThrows(ConfigException.class, () -> new JwtVerifier(hs, Map.of("ODIN_JWT_SECRET", "short")));
    assertTrue(shortSecret.getMessage().contains("32"), shortSecret.getMessage());
    assertFalse(shortSecret.getMessage().contains("short"), "no secret in the message");
    Path ecPem = Files.writeString(dir.resolve("ec.pem"), TestKeys.publicPem(ec));
    assertThrows(ConfigException.class, () -> verifier(TestKeys.config("RS256", "", ecPem.toString(), "", "", "")));
    assertThrows(ConfigException.class, () -> verifier(TestKeys.config("RS256", "", dir.resolve("absent.pem").toString(), "", "", "")));
    Path notPem = Files.writeString(dir.resolve("not.pem"), "hello");
    assertThrows(ConfigException.class, () -> verifier(TestKeys.config("ES256", "", notPem.toString(), "", "", "")));
    assertThrows(ConfigException.class, () -> verifier(TestKeys.config("RS256", "", "", "", "", "")));
    assertThrows(ConfigException.class, () -> verifier(TestKeys.config("none", "", "", "", "", "")));
  }

  @Test
  void jwksKeysAreChosenByKid() throws IOException {
    Path f = Files.writeString(dir.resolve("jwks.json"),
        TestKeys.jwks(TestKeys.jwk(ec, "k1"), TestKeys.jwk(ec2, "k2"), TestKeys.jwk(rsa, "r1")));
    JwtVerifier v = verifier(TestKeys.config("ES256", "", "", f.toString(), "", ""));
    assertEquals(2, v.keyCount(), "the RSA key is not an ES256 key");
    valid(v.verify(TokenMinter.mint("ES256", ec.getPrivate(), "k1", claims())));
    valid(v.verify(TokenMinter.mint("ES256", ec2.getPrivate(), "k2", claims())));
    valid(v.verify(TokenMinter.mint("ES256", ec2.getPrivate(), null, claims())), "no kid: every key");
    refused(Refusal.SIGNATURE, v.verify(TokenMinter.mint("ES256", ec2.getPrivate(), "k1", claims())));
    refused(Refusal.SIGNATURE, v.verify(TokenMinter.mint("ES256", ec.getPrivate(), "unknown", claims())));
  }

  static void valid(Verification v, String why) {
    assertInstanceOf(Verification.Valid.class, v, why);
  }

  @Test
  void jwksRotation() throws IOException {
    Path f = Files.writeString(dir.resolve("jwks.json"), TestKeys.jwks(TestKeys.jwk(rsa, "old")));
    JwtVerifier v = verifier(TestKeys.config("RS256", "", "", f.toString(), "", ""));
    String oldToken = TokenMinter.mint("RS256", rsa.getPrivate(), "old", claims());
    String newToken = TokenMinter.mint("RS256", rsa2.getPrivate(), "new", claims());
    valid(v.verify(oldToken));
    refused(Refusal.SIGNATURE, v.verify(newToken));
    assertFalse(v.reloadIfChanged(), "unchanged file: nothing read");

    rewrite(f, TestKeys.jwks(TestKeys.jwk(rsa, "old"), TestKeys.jwk(rsa2, "new")), 1);
    assertTrue(v.reloadIfChanged());
    valid(v.verify(oldToken));
    valid(v.verify(newToken));

    rewrite(f, TestKeys.jwks(TestKeys.jwk(rsa2, "new")), 2);
    assertTrue(v.reloadIfChanged());
    refused(Refusal.SIGNATURE, v.verify(oldToken));
    valid(v.verify(newToken));

    rewrite(f, "{\"keys\": [", 3);
    assertFalse(v.reloadIfChanged(), "a broken file keeps the keys");
    valid(v.verify(newToken));
    rewrite(f, TestKeys.jwks(TestKeys.jwk(ec, "wrong-type")), 4);
    assertFalse(v.reloadIfChanged());
    valid(v.verify(newToken));
    Files.delete(f);
    assertFalse(v.reloadIfChanged(), "a missing file keeps the keys");
    valid(v.verify(newToken));
  }

  @Test
  void pemAndSecretFilesAreReloadedToo() throws IOException {
    Path pem = Files.writeString(dir.resolve("keys.pem"), TestKeys.publicPem(ec));
    JwtVerifier v = verifier(TestKeys.config("ES256", "", pem.toString(), "", "", ""));
    String second = TokenMinter.mint("ES256", ec2.getPrivate(), null, claims());
    refused(Refusal.SIGNATURE, v.verify(second));
    rewrite(pem, TestKeys.publicPem(ec2), 1);
    assertTrue(v.reloadIfChanged());
    valid(v.verify(second));

    Path secret = Files.writeString(dir.resolve("secret"), TestKeys.SECRET);
    JwtVerifier h = verifier(TestKeys.config("HS256", secret.toString(), "", "", "", ""));
    String next = "the-next-secret-of-at-least-thirty-two-bytes";
    String nextToken = TokenMinter.mint("HS256", TokenMinter.hmacKey(next.getBytes(StandardCharsets.UTF_8)), null, claims());
    refused(Refusal.SIGNATURE, h.verify(nextToken));
    rewrite(secret, "too-short\n", 1);
    assertFalse(h.reloadIfChanged(), "a secret below the minimum keeps the previous one");
    valid(h.verify(hs(claims())));
    rewrite(secret, next + "\n", 2);
    assertTrue(h.reloadIfChanged());
    valid(h.verify(nextToken));
    refused(Refusal.SIGNATURE, h.verify(hs(claims())));
  }

  /** Rewrites {@code f} with a modification time of its own, so coarse file-system clocks still see a change. */
  private static void rewrite(Path f, String text, int step) throws IOException {
    Files.writeString(f, text);
    Files.setLastModifiedTime(f, FileTime.fromMillis(NOW + step * 10_000L));
  }

  /**
   * Vert.x's JWS pads a short RSA signature with zeros, so a signature whose last byte is zero also verified
   * without it (JwtFuzzTest found one by truncation): only the modulus's length is accepted.
   */
  @Test
  void anRsaSignatureWithoutItsTrailingZeroByteIsRefused() throws IOException {
    JwtVerifier v = pem("RS256", rsa);
    String token = null;
    for (int i = 0; token == null; i++) { // about one signature in 256 ends in a zero byte
      String t = TokenMinter.mint("RS256", rsa.getPrivate(), null, TokenMinter.claims("alice", 600 + i, null, null, null, NOW_S));
      byte[] sig = Base64.getUrlDecoder().decode(t.substring(t.lastIndexOf('.') + 1));
      if (sig[sig.length - 1] == 0) {
        token = t;
      }
    }
    valid(v.check(token));
    byte[] sig = Base64.getUrlDecoder().decode(token.substring(token.lastIndexOf('.') + 1));
    String shortened = token.substring(0, token.lastIndexOf('.') + 1) + B64.encodeToString(java.util.Arrays.copyOf(sig, sig.length - 1));
    refused(Refusal.SIGNATURE, v.check(shortened));
  }
}
