package io.odinws.it;

import io.odinws.auth.Refusal;
import io.odinws.testkit.EmbeddedKafka;
import io.odinws.testkit.KafkaBrokerExtension;
import io.odinws.tools.token.TokenMinter;
import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static io.odinws.it.AuthWs.metric;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every kind of bad token against an RS256 server with {@code iss} and {@code aud} checks (issue 15, points 1, 2
 * and 6; docs/protocol.md section 11): presented on the upgrade as a header or a query parameter, each is refused
 * with 401 naming its label; presented in an {@code auth} message, with {@code auth_error} and its documented code,
 * and the connection carries on as it was, anonymous or authenticated. /metrics counts each refusal by its label.
 */
@ExtendWith(KafkaBrokerExtension.class)
class TokenRefusalTest {

  private static final String ISSUER = "https://tokens.odin.test";
  private static final String AUDIENCE = "odin-ws";
  private static final String ALICE = "0xalice";

  private static EmbeddedKafka kafka;
  private static AuthWs.Topics topics;
  private static KeyPair key;
  private static ServerHarness server;
  private static Vertx vertx;
  private static WebSocketClient ws;

  /** A bad token and the documented answer: the auth_error code and the 401's label. */
  private record Bad(String what, String token, String code, String label, Refusal refusal) {
  }

  @BeforeAll
  static void start(EmbeddedKafka broker, @TempDir Path dir) throws Exception {
    kafka = broker;
    topics = AuthWs.Topics.create(kafka);
    key = AuthWs.rsa();
    Path pem = Files.writeString(dir.resolve("public.pem"), TokenMinter.pem("PUBLIC KEY", key.getPublic().getEncoded()));
    server = ServerHarness.start(kafka, new JsonObject().put("mode", "single").put("kafka", topics.kafka())
        .put("auth", new JsonObject().put("mode", "optional").put("algorithm", "RS256").put("publicKeyFile", pem.toString())
            .put("issuer", ISSUER).put("audience", AUDIENCE).put("privateTopics", topics.privateTopics())));
    vertx = Vertx.vertx();
    ws = vertx.createWebSocketClient();
  }

  @AfterAll
  static void stop() throws Exception {
    if (vertx != null) {
      vertx.close().await(30, TimeUnit.SECONDS);
    }
    if (server != null) {
      server.close();
    }
  }

  private static JsonObject claims(String sub) {
    return TokenMinter.claims(sub, 600, null, ISSUER, AUDIENCE, AuthWs.nowSeconds());
  }

  private static String rs(JsonObject claims) {
    return TokenMinter.mint("RS256", key.getPrivate(), null, claims);
  }

  private static String b64(String json) {
    return java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(json.getBytes(StandardCharsets.UTF_8));
  }

  /** Every bad token of issue 15's list, minted now, with the code and label docs/protocol.md gives it. */
  private static List<Bad> badTokens() throws Exception {
    long now = AuthWs.nowSeconds();
    String good = rs(claims(ALICE));
    String[] parts = good.split("\\.");
    String bobPayload = rs(claims("0xbob")).split("\\.")[1];
    JsonObject noSub = claims(ALICE);
    noSub.remove("sub");
    String pemText = TokenMinter.pem("PUBLIC KEY", key.getPublic().getEncoded());
    return List.of(
        new Bad("expired", rs(claims(ALICE).put("iat", now - 7200).put("exp", now - 3600)), "TOKEN_EXPIRED", "expired", Refusal.EXPIRED),
        new Bad("not yet valid", rs(claims(ALICE).put("nbf", now + 3600)), "TOKEN_NOT_YET_VALID", "not_yet_valid", Refusal.NOT_YET_VALID),
        new Bad("another key", TokenMinter.mint("RS256", AuthWs.rsa().getPrivate(), null, claims(ALICE)), "TOKEN_SIGNATURE", "signature",
            Refusal.SIGNATURE),
        new Bad("tampered payload", parts[0] + "." + bobPayload + "." + parts[2], "TOKEN_SIGNATURE", "signature", Refusal.SIGNATURE),
        new Bad("alg none", b64("{\"alg\":\"none\",\"typ\":\"JWT\"}") + "." + parts[1] + ".", "TOKEN_ALGORITHM", "algorithm",
            Refusal.ALGORITHM),
        new Bad("HS256 keyed with the RS public key", TokenMinter.mint("HS256",
            TokenMinter.hmacKey(pemText.getBytes(StandardCharsets.US_ASCII)), null, claims(ALICE)), "TOKEN_ALGORITHM", "algorithm",
            Refusal.ALGORITHM),
        new Bad("wrong iss", rs(claims(ALICE).put("iss", "https://evil.test")), "TOKEN_ISSUER", "issuer", Refusal.ISSUER),
        new Bad("wrong aud", rs(claims(ALICE).put("aud", "another-service")), "TOKEN_AUDIENCE", "audience", Refusal.AUDIENCE),
        new Bad("no sub", rs(noSub), "TOKEN_NO_SUBJECT", "no_subject", Refusal.NO_SUBJECT),
        new Bad("channels not an array", rs(claims(ALICE).put("channels", "BTC.*")), "TOKEN_CLAIMS", "claims", Refusal.CLAIMS),
        new Bad("garbage", "this-is-no-jwt", "TOKEN_MALFORMED", "malformed", Refusal.MALFORMED));
  }

  private static void assert401(Bad bad, AuthWs.Answer answer, String how) {
    String what = bad.what() + " " + how + ": " + answer.raw();
    assertEquals(401, answer.status(), what);
    assertEquals("Unauthorized: " + bad.refusal().message() + "\n", answer.body(), what);
    assertEquals("Bearer error=\"invalid_token\", error_description=\"" + bad.label() + "\"", answer.headers().get("www-authenticate"), what);
  }

  @Test
  void everyBadTokenOnTheUpgradeIsRefusedWith401NamingItsLabel() throws Exception {
    List<Bad> bad = badTokens();
    String before = AuthWs.metrics(server);
    for (Bad b : bad) {
      assert401(b, AuthWs.exchange(server.port(), AuthWs.upgrade("/ws", "Bearer " + b.token())), "as a header");
      assert401(b, AuthWs.exchange(server.port(), AuthWs.upgrade(AuthWs.query(b.token()), null)), "as ?token=");
    }
    // the documented example, word for word
    AuthWs.Answer expired = AuthWs.exchange(server.port(), AuthWs.upgrade("/ws", "Bearer " + bad.get(0).token()));
    assertEquals("Unauthorized: The token has expired: fetch a new one\n", expired.body());

    // both presented: the header is used and the query parameter ignored
    String good = rs(claims(ALICE));
    assertEquals(101, AuthWs.exchange(server.port(), AuthWs.upgrade(AuthWs.query("this-is-no-jwt"), "Bearer " + good)).status());
    assert401(bad.get(0), AuthWs.exchange(server.port(), AuthWs.upgrade(AuthWs.query(good), "Bearer " + bad.get(0).token())), "header over query");

    String after = AuthWs.metrics(server);
    Map<String, Integer> expected = new LinkedHashMap<>();
    bad.forEach(b -> expected.merge(b.label(), 2, Integer::sum));
    expected.merge("expired", 2, Integer::sum); // the example and the header-over-query case
    for (Map.Entry<String, Integer> e : expected.entrySet()) {
      String label = "result=\"" + e.getKey() + "\"";
      assertEquals((long) e.getValue(), metric(after, "ws_auth_total", label) - metric(before, "ws_auth_total", label), e.getKey());
    }
    assertEquals(1, metric(after, "ws_auth_total", "result=\"ok\"") - metric(before, "ws_auth_total", "result=\"ok\""));
    assertEquals(2L * bad.size() + 2, metric(after, "ws_connections_failed_total", null) - metric(before, "ws_connections_failed_total", null),
        "every 401 is a failed upgrade");
  }

  @Test
  void everyBadTokenInAnAuthMessageIsAnAuthErrorAndChangesNothing() throws Exception {
    List<Bad> bad = badTokens();
    String before = AuthWs.metrics(server);
    try (AuthWs.Client anonymous = AuthWs.Client.open(ws, server.port());
         AuthWs.Client alice = AuthWs.Client.bearer(ws, server.port(), rs(claims(ALICE)))) {
      JsonObject ack = alice.subscribe("BTC.balances", "BTC.trade");
      assertEquals(List.of("BTC.balances", "BTC.trade"), ack.getJsonArray("subscribed").getList(), ack.encode());
      for (Bad b : bad) {
        for (AuthWs.Client c : List.of(anonymous, alice)) {
          JsonObject reply = c.auth(b.token());
          assertEquals(new JsonObject().put("type", "auth_error").put("code", b.code()).put("message", b.refusal().message()), reply, b.what());
        }
      }
      // a valid token for another user is a refresh with another sub: refused, alice stays alice
      JsonObject mismatch = alice.auth(rs(claims("0xbob")));
      assertEquals("SUBJECT_MISMATCH", mismatch.getString("code"), mismatch.encode());
      JsonObject invalid = anonymous.request("{\"type\":\"auth\",\"data\":{}}", "error");
      assertEquals("INVALID_MESSAGE", invalid.getString("code"), invalid.encode());

      // the anonymous connection is still anonymous, and otherwise works as before
      JsonObject anonAck = anonymous.subscribe("BTC.trade", "BTC.balances");
      assertEquals(List.of("BTC.trade"), anonAck.getJsonArray("subscribed").getList(), anonAck.encode());
      assertEquals("private channel: authenticate first", anonAck.getJsonArray("rejected").getJsonObject(0).getString("reason"), anonAck.encode());
      anonymous.heartbeat();
      alice.heartbeat();

      String marker = UUID.randomUUID().toString();
      AuthWs.produce(kafka, topics.balances(), "BTC", AuthWs.balance(ALICE, "b-" + marker));
      AuthWs.produce(kafka, topics.trades(), "BTC", AuthWs.trade("t-" + marker));
      anonymous.awaitData("BTC.trade", "t-" + marker);
      alice.awaitData("BTC.trade", "t-" + marker);
      alice.awaitData("BTC.balances", "b-" + marker); // her identity and private subscription survived every failed refresh
      assertEquals(null, anonymous.closeCode);
      assertEquals(null, alice.closeCode);
      assertTrue(!anonymous.hasData("b-" + marker), "the anonymous connection got a private record: " + anonymous.received);
    }
    String after = AuthWs.metrics(server);
    for (Bad b : bad) {
      String label = "result=\"" + b.label() + "\"";
      long perLabel = bad.stream().filter(x -> x.label().equals(b.label())).count();
      assertEquals(2 * perLabel, metric(after, "ws_auth_total", label) - metric(before, "ws_auth_total", label), b.label());
    }
    String mismatch = "result=\"subject_mismatch\"";
    assertEquals(1, metric(after, "ws_auth_total", mismatch) - metric(before, "ws_auth_total", mismatch));
    String ok = "result=\"ok\"";
    assertEquals(1, metric(after, "ws_auth_total", ok) - metric(before, "ws_auth_total", ok), "alice's upgrade");
    String priv = "reason=\"private\"";
    assertEquals(1, metric(after, "ws_subscriptions_refused_total", priv) - metric(before, "ws_subscriptions_refused_total", priv));
  }
}
