package io.odinws.it;

import io.odinws.testkit.Await;
import io.odinws.testkit.EmbeddedKafka;
import io.odinws.testkit.KafkaBrokerExtension;
import io.odinws.tools.token.TokenMinter;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.interfaces.ECPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.util.Arrays;
import java.util.Base64;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static io.odinws.it.AuthWs.claims;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * ES256 keys from a JWKS file, rotated without a restart (issue 15, point 1): a key added to the file verifies
 * tokens once the server has re-read it, a key removed stops verifying, and a file that does not parse leaves the
 * keys in force.
 */
@ExtendWith(KafkaBrokerExtension.class)
class KeyRotationTest {

  private static KeyPair ec() throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
    g.initialize(new ECGenParameterSpec("secp256r1"));
    return g.generateKeyPair();
  }

  private static String coordinate(BigInteger v) {
    byte[] b = v.toByteArray();
    if (b.length > 32) {
      b = Arrays.copyOfRange(b, b.length - 32, b.length);
    } else if (b.length < 32) {
      byte[] padded = new byte[32];
      System.arraycopy(b, 0, padded, 32 - b.length, b.length);
      b = padded;
    }
    return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
  }

  private static JsonObject jwk(KeyPair pair, String kid) {
    ECPublicKey k = (ECPublicKey) pair.getPublic();
    return new JsonObject().put("kty", "EC").put("crv", "P-256").put("use", "sig").put("kid", kid)
        .put("x", coordinate(k.getW().getAffineX())).put("y", coordinate(k.getW().getAffineY()));
  }

  /** Replaces the file in one step, as a Kubernetes volume update does. */
  private static void write(Path file, String text) throws Exception {
    Path tmp = Files.writeString(file.resolveSibling(file.getFileName() + "." + UUID.randomUUID()), text);
    Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
  }

  private static String jwks(JsonObject... keys) {
    return new JsonObject().put("keys", new JsonArray(Arrays.asList((Object[]) keys))).encode();
  }

  private static int upgrade(ServerHarness server, String token) {
    try {
      return AuthWs.exchange(server.port(), AuthWs.upgrade("/ws", "Bearer " + token)).status();
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  @Test
  void aKeyAddedToTheJwksVerifiesOnceReadAndARemovedOneStops(EmbeddedKafka kafka, @TempDir Path dir) throws Exception {
    KeyPair first = ec();
    KeyPair second = ec();
    Path file = dir.resolve("jwks.json");
    write(file, jwks(jwk(first, "k1")));
    AuthWs.Topics topics = AuthWs.Topics.create(kafka);
    String user = "0x" + UUID.randomUUID().toString().replace("-", "");
    String byFirst = TokenMinter.mint("ES256", first.getPrivate(), "k1", claims(user, 600, null));
    String bySecond = TokenMinter.mint("ES256", second.getPrivate(), "k2", claims(user, 600, null));
    Vertx vertx = Vertx.vertx();
    try (ServerHarness server = ServerHarness.start(kafka, new JsonObject().put("mode", "single").put("kafka", topics.kafka())
        .put("auth", new JsonObject().put("mode", "optional").put("algorithm", "ES256").put("jwksFile", file.toString())
            .put("keyReloadMs", 200).put("privateTopics", topics.privateTopics())));
         FuzzLogCapture warnings = FuzzLogCapture.attach("io.odinws.auth")) {
      assertEquals(101, upgrade(server, byFirst));
      AuthWs.Answer refused = AuthWs.exchange(server.port(), AuthWs.upgrade("/ws", "Bearer " + bySecond));
      assertEquals(401, refused.status(), refused.raw());
      assertEquals("Bearer error=\"invalid_token\", error_description=\"signature\"", refused.headers().get("www-authenticate"));

      try (AuthWs.Client c = AuthWs.Client.bearer(vertx.createWebSocketClient(), server.port(), byFirst)) {
        write(file, jwks(jwk(first, "k1"), jwk(second, "k2")));
        Await.until("the second key read", Duration.ofSeconds(30), Duration.ofMillis(100), () -> upgrade(server, bySecond) == 101);
        assertEquals("auth_ack", c.auth(bySecond).getString("type"), "a refresh signed with the new key");

        write(file, jwks(jwk(second, "k2")));
        Await.until("the first key dropped", Duration.ofSeconds(30), Duration.ofMillis(100), () -> upgrade(server, byFirst) == 401);

        write(file, "{\"keys\":");
        Await.until("the broken file seen", Duration.ofSeconds(30), () -> !warnings.matching("event=auth_keys_reload_failed").isEmpty());
        assertEquals(101, upgrade(server, bySecond), "the keys in force stay");
        assertEquals("pong", c.heartbeat().getString("type"));
      }
    } finally {
      vertx.close().await(30, TimeUnit.SECONDS);
    }
  }
}
