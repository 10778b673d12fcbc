package io.odinws.it;

import io.odinws.testkit.Await;
import io.odinws.testkit.EmbeddedKafka;
import io.odinws.testkit.KafkaBrokerExtension;
import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static io.odinws.it.AuthWs.claims;
import static io.odinws.it.AuthWs.delta;
import static io.odinws.it.AuthWs.hs256;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The life of an authenticated connection on a real server (issue 15, point 5; docs/protocol.md section 11):
 * refresh for the same sub past the first token's exp, refresh for another sub, a refresh that narrows the
 * channels claim, expiry without refresh (4001), the per-user connection limit across shards, and the channels
 * claim at subscription, and a query parameter left unread. HS256, {@code auth.mode} optional, leeway 0, two connections
 * per user, {@code auth.queryToken} false.
 */
@ExtendWith(KafkaBrokerExtension.class)
class AuthFlowTest {

  private static EmbeddedKafka kafka;
  private static AuthWs.Topics topics;
  private static ServerHarness server;
  private static Vertx vertx;
  private static WebSocketClient ws;

  @BeforeAll
  static void start(EmbeddedKafka broker, @TempDir Path dir) throws Exception {
    kafka = broker;
    topics = AuthWs.Topics.create(kafka);
    Path secret = Files.write(dir.resolve("secret"), AuthWs.SECRET);
    server = ServerHarness.start(kafka, new JsonObject().put("shards", 2).put("kafka", topics.kafka())
        .put("auth", new JsonObject().put("mode", "optional").put("hmacSecretFile", secret.toString()).put("leewaySeconds", 0)
            .put("maxConnectionsPerUser", 2).put("queryToken", false).put("privateTopics", topics.privateTopics())));
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

  private static String user() {
    return "0x" + UUID.randomUUID().toString().replace("-", "");
  }

  private static void awaitWallClockPast(long millis) {
    Await.until("the wall clock past " + millis, Duration.ofSeconds(60), Duration.ofMillis(50), () -> System.currentTimeMillis() > millis);
  }

  @Test
  void aRefreshForTheSameSubKeepsTheSubscriptionsPastTheFirstTokensExpiry() throws Exception {
    String user = user();
    JsonObject first = claims(user, 5, null); // long enough for four round trips on a busy machine, as below
    long firstExp = first.getLong("exp");
    String before = AuthWs.metrics(server);
    try (AuthWs.Client c = AuthWs.Client.bearer(ws, server.port(), hs256(first))) {
      JsonObject ack = c.subscribe("BTC.balances", "BTC.trade");
      assertEquals(2, ack.getJsonArray("subscribed").size(), ack.encode());
      // another user's token: refused, the connection keeps its user
      assertEquals("SUBJECT_MISMATCH", c.auth(hs256(claims(user(), 600, null))).getString("code"));
      JsonObject second = claims(user, 600, null);
      JsonObject refreshed = c.auth(hs256(second));
      assertEquals(new JsonObject().put("type", "auth_ack").put("sub", user).put("expires_at", second.getLong("exp")), refreshed,
          "no revoked: nothing to revoke");

      awaitWallClockPast(firstExp * 1000 + 2500); // past the first exp, and two sweeps more
      String marker = UUID.randomUUID().toString();
      AuthWs.produce(kafka, topics.balances(), "BTC", AuthWs.balance(user, "b-" + marker));
      AuthWs.produce(kafka, topics.trades(), "BTC", AuthWs.trade("t-" + marker));
      c.awaitData("BTC.balances", "b-" + marker);
      c.awaitData("BTC.trade", "t-" + marker);
      assertNull(c.closeCode, "closed although refreshed: " + c.closeReason);
    }
    String after = AuthWs.metrics(server);
    assertEquals(1, delta(before, after, "ws_auth_total", "result=\"refresh\""));
    assertEquals(1, delta(before, after, "ws_auth_total", "result=\"subject_mismatch\""));
    assertEquals(0, delta(before, after, "ws_disconnects_total", "reason=\"token_expired\""));
  }

  @Test
  void aRefreshWhoseChannelsClaimNoLongerPermitsASubscriptionRevokesIt() throws Exception {
    String user = user();
    try (AuthWs.Client c = AuthWs.Client.bearer(ws, server.port(), hs256(claims(user, 600, List.of("*.trade", "BTC.*", "ETH.liquidity"))))) {
      JsonObject ack = c.subscribe("BTC.liquidity", "ETH.liquidity", "ETH.trade");
      assertEquals(3, ack.getJsonArray("subscribed").size(), ack.encode());
      JsonObject narrower = claims(user, 600, List.of("*.trade", "ETH.liquidity"));
      JsonObject refreshed = c.auth(hs256(narrower));
      assertEquals("auth_ack", refreshed.getString("type"), refreshed.encode());
      assertEquals(new JsonArray().add("BTC.liquidity"), refreshed.getJsonArray("revoked"), refreshed.encode());
      assertEquals(narrower.getLong("exp"), refreshed.getLong("expires_at"));

      // one partition: the ETH record comes after the BTC one, so once it is in, the BTC one would have been too
      String marker = UUID.randomUUID().toString();
      AuthWs.produce(kafka, topics.liquidity(), "BTC", AuthWs.trade("btc-" + marker));
      AuthWs.produce(kafka, topics.liquidity(), "ETH", AuthWs.trade("eth-" + marker));
      c.awaitData("ETH.liquidity", "eth-" + marker);
      assertFalse(c.hasData("btc-" + marker), "a revoked subscription still delivers: " + c.received);
      JsonObject again = c.subscribe("BTC.liquidity");
      assertEquals("not permitted by the token", again.getJsonArray("rejected").getJsonObject(0).getString("reason"), again.encode());
    }
  }

  @Test
  void withoutARefreshTheServerClosesWith4001AfterExp() throws Exception {
    String before = AuthWs.metrics(server);
    String viaHeader = user();
    String viaMessage = user();
    JsonObject headerClaims = claims(viaHeader, 5, null); // still valid when the upgrade and the auth arrive on a busy machine
    JsonObject messageClaims = claims(viaMessage, 5, null);
    try (AuthWs.Client byHeader = AuthWs.Client.bearer(ws, server.port(), hs256(headerClaims));
         AuthWs.Client byMessage = AuthWs.Client.open(ws, server.port())) {
      JsonObject ack = byMessage.auth(hs256(messageClaims));
      assertEquals(messageClaims.getLong("exp"), ack.getLong("expires_at"), ack.encode());
      byHeader.subscribe("BTC.trade");
      // a refused refresh leaves the old expiry in force
      assertEquals("SUBJECT_MISMATCH", byHeader.auth(hs256(claims(user(), 600, null))).getString("code"));
      for (AuthWs.Client c : List.of(byHeader, byMessage)) {
        c.awaitClose();
        assertEquals((short) 4001, c.closeCode, c.closeReason);
        assertEquals("Token expired", c.closeReason);
      }
      assertTrue(byHeader.closedAtMillis >= headerClaims.getLong("exp") * 1000, "closed before exp");
      assertTrue(byMessage.closedAtMillis >= messageClaims.getLong("exp") * 1000, "closed before exp");
    }
    Await.until("the closes counted", AuthWs.WITHIN,
        () -> delta(before, AuthWs.metrics(server), "ws_disconnects_total", "reason=\"token_expired\"") == 2);
  }

  @Test
  void aUserBeyondTheLimitIsRefusedWith429OrUserConnectionLimitUntilOneCloses() throws Exception {
    String user = user();
    String before = AuthWs.metrics(server);
    try (AuthWs.Client first = AuthWs.Client.bearer(ws, server.port(), hs256(claims(user, 600, null)));
         AuthWs.Client second = AuthWs.Client.open(ws, server.port());
         AuthWs.Client anonymous = AuthWs.Client.open(ws, server.port())) {
      assertEquals("auth_ack", second.auth(hs256(claims(user, 600, null))).getString("type"));

      AuthWs.Answer third = AuthWs.exchange(server.port(), AuthWs.upgrade("/ws", "Bearer " + hs256(claims(user, 600, null))));
      assertEquals(429, third.status(), third.raw());
      assertEquals("Too many connections for this user\n", third.body());
      assertEquals("5", third.headers().get("retry-after"));
      JsonObject refused = anonymous.auth(hs256(claims(user, 600, null)));
      assertEquals("USER_CONNECTION_LIMIT", refused.getString("code"), refused.encode());
      assertEquals("Too many connections for this user", refused.getString("message"));
      JsonObject still = anonymous.subscribe("BTC.balances");
      assertEquals("private channel: authenticate first", still.getJsonArray("rejected").getJsonObject(0).getString("reason"), "still anonymous");
      // a refresh does not count a second time
      assertEquals("auth_ack", first.auth(hs256(claims(user, 600, null))).getString("type"));

      first.ws.close();
      Await.until("the first connection gone from the server", AuthWs.WITHIN, () -> java.util.Arrays.stream(server.connectionsPerShard()).sum() == 2);
      try (AuthWs.Client again = AuthWs.Client.bearer(ws, server.port(), hs256(claims(user, 600, null)))) {
        assertEquals("pong", again.heartbeat().getString("type"));
      }
    }
    String after = AuthWs.metrics(server);
    assertEquals(2, delta(before, after, "ws_auth_total", "result=\"user_limit\""));
  }

  @Test
  void theChannelsClaimLimitsWhatTheConnectionMaySubscribe() throws Exception {
    String user = user();
    String before = AuthWs.metrics(server);
    try (AuthWs.Client c = AuthWs.Client.bearer(ws, server.port(), hs256(claims(user, 600, List.of("*.trade", "BTC.*"))))) {
      JsonObject ack = c.subscribe("ETH.liquidity", "BTC.liquidity", "ETH.trade", "*.balances", "BTC.balances");
      assertEquals(List.of("BTC.liquidity", "ETH.trade", "BTC.balances"), ack.getJsonArray("subscribed").getList(), ack.encode());
      JsonArray rejected = ack.getJsonArray("rejected");
      assertEquals(2, rejected.size(), ack.encode());
      for (int i = 0; i < rejected.size(); i++) {
        assertTrue(List.of("ETH.liquidity", "*.balances").contains(rejected.getJsonObject(i).getString("channel")), ack.encode());
        assertEquals("not permitted by the token", rejected.getJsonObject(i).getString("reason"), ack.encode());
      }
      String marker = UUID.randomUUID().toString();
      AuthWs.produce(kafka, topics.liquidity(), "ETH", AuthWs.trade("eth-" + marker));
      AuthWs.produce(kafka, topics.liquidity(), "BTC", AuthWs.trade("btc-" + marker));
      AuthWs.produce(kafka, topics.trades(), "ETH", AuthWs.trade("trade-" + marker));
      c.awaitData("BTC.liquidity", "btc-" + marker);
      c.awaitData("ETH.trade", "trade-" + marker);
      assertFalse(c.hasData("eth-" + marker), "a refused channel delivers: " + c.received);
    }
    String after = AuthWs.metrics(server);
    assertEquals(2, delta(before, after, "ws_subscriptions_refused_total", "reason=\"not_permitted\""));
  }

  @Test
  void aTokenWithoutExpIsAcknowledgedWithANullExpiry() throws Exception {
    String user = user();
    try (AuthWs.Client c = AuthWs.Client.open(ws, server.port())) {
      JsonObject ack = c.auth(hs256(claims(user, 0, null)));
      assertEquals(new JsonObject().put("type", "auth_ack").put("sub", user).putNull("expires_at"), ack);
      assertTrue(ack.containsKey("expires_at"), "expires_at is null, not absent");
    }
  }

  @Test
  void withQueryTokenOffTheParameterIsNotRead() throws Exception {
    String before = AuthWs.metrics(server);
    assertEquals(101, AuthWs.exchange(server.port(), AuthWs.upgrade(AuthWs.query("this-is-no-jwt"), null)).status(), "a bad one is not refused");
    String user = user();
    try (AuthWs.Client c = AuthWs.Client.open(ws, server.port(), AuthWs.query(hs256(claims(user, 600, null))), null)) {
      JsonObject ack = c.subscribe("BTC.balances");
      assertEquals("private channel: authenticate first", ack.getJsonArray("rejected").getJsonObject(0).getString("reason"),
          "a good one does not authenticate: " + ack.encode());
    }
    String after = AuthWs.metrics(server);
    assertEquals(0, delta(before, after, "ws_auth_total", "result=\"malformed\""));
    assertEquals(0, delta(before, after, "ws_auth_total", "result=\"ok\""));
  }

  /**
   * The channels claim applies to a first authentication too: subscriptions made while anonymous that it does not
   * permit end (listed in the auth_ack's revoked), so a {@code BTC.*} among them never carries the user's private records.
   */
  @Test
  void theChannelsClaimAppliesToSubscriptionsMadeBeforeTheFirstAuthentication() throws Exception {
    String user = user();
    try (AuthWs.Client c = AuthWs.Client.open(ws, server.port());
         AuthWs.Client witness = AuthWs.Client.bearer(ws, server.port(), hs256(claims(user, 600, null)))) {
      assertEquals(3, c.subscribe("BTC.*", "ETH.liquidity", "*.trade").getJsonArray("subscribed").size());
      assertEquals(2, witness.subscribe("BTC.balances", "ETH.liquidity").getJsonArray("subscribed").size());
      JsonObject auth = c.auth(hs256(claims(user, 600, List.of("*.trade"))));
      assertEquals("auth_ack", auth.getString("type"), auth.encode());
      assertEquals(List.of("BTC.*", "ETH.liquidity"), auth.getJsonArray("revoked").getList().stream().sorted().toList(), auth.encode());
      String marker = UUID.randomUUID().toString();
      AuthWs.produce(kafka, topics.balances(), "BTC", AuthWs.balance(user, "b-" + marker));
      AuthWs.produce(kafka, topics.liquidity(), "ETH", AuthWs.trade("l-" + marker));
      witness.awaitData("BTC.balances", "b-" + marker);
      witness.awaitData("ETH.liquidity", "l-" + marker);
      // published before the trade: had c's shard sent them to c, they would precede it on c's socket
      AuthWs.produce(kafka, topics.trades(), "ETH", AuthWs.trade("t-" + marker));
      c.awaitData("ETH.trade", "t-" + marker);
      assertFalse(c.hasData("b-" + marker), "a private record through BTC.*, which the claim does not permit: " + c.received);
      assertFalse(c.hasData("l-" + marker), "ETH.liquidity, which the claim does not permit: " + c.received);
    }
  }
}
