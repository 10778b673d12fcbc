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
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code auth.mode} required and off on real servers (docs/protocol.md section 11, "Modes"): required rejects
 * every subscription until the connection authenticates and closes it with 4002 after {@code auth.timeoutMs}
 * without a valid token; off reads no token at all and delivers balances to everyone, as the Go server did.
 */
@ExtendWith(KafkaBrokerExtension.class)
class AuthModesTest {

  private static final String AUTH_REQUIRED = "authentication required: send {\"type\":\"auth\"} first";
  private static final long TIMEOUT_MS = 1500;

  private static EmbeddedKafka kafka;
  private static AuthWs.Topics topics;
  private static ServerHarness required;
  private static ServerHarness off;
  private static Vertx vertx;
  private static WebSocketClient ws;

  @BeforeAll
  static void start(EmbeddedKafka broker, @TempDir Path dir) throws Exception {
    kafka = broker;
    topics = AuthWs.Topics.create(kafka);
    Path secret = Files.write(dir.resolve("secret"), AuthWs.SECRET);
    required = ServerHarness.start(kafka, new JsonObject().put("mode", "single").put("kafka", topics.kafka())
        .put("auth", new JsonObject().put("mode", "required").put("hmacSecretFile", secret.toString()).put("timeoutMs", TIMEOUT_MS)
            .put("privateTopics", topics.privateTopics())));
    off = ServerHarness.start(kafka, new JsonObject().put("mode", "single").put("kafka", topics.kafka())
        .put("auth", new JsonObject().put("privateTopics", topics.privateTopics())));
    vertx = Vertx.vertx();
    ws = vertx.createWebSocketClient();
  }

  @AfterAll
  static void stop() throws Exception {
    if (vertx != null) {
      vertx.close().await(30, TimeUnit.SECONDS);
    }
    for (ServerHarness s : new ServerHarness[] {required, off}) {
      if (s != null) {
        s.close();
      }
    }
  }

  private static String user() {
    return "0x" + UUID.randomUUID().toString().replace("-", "");
  }

  @Test
  void requiredRejectsEverySubscriptionUntilAuthThenAcceptsThem() throws Exception {
    String user = user();
    String before = AuthWs.metrics(required);
    try (AuthWs.Client c = AuthWs.Client.open(ws, required.port())) {
      long openedAt = System.currentTimeMillis();
      JsonObject ack = c.subscribe("BTC.trade", "*.balances", "BTC.*");
      assertEquals(new JsonArray(), ack.getJsonArray("subscribed"), ack.encode());
      JsonArray rejected = ack.getJsonArray("rejected");
      assertEquals(3, rejected.size(), ack.encode());
      for (int i = 0; i < 3; i++) {
        assertEquals(AUTH_REQUIRED, rejected.getJsonObject(i).getString("reason"), ack.encode());
      }
      assertEquals("auth_ack", c.auth(hs256(claims(user, 600, null))).getString("type"));
      JsonObject after = c.subscribe("BTC.trade", "BTC.balances");
      assertEquals(List.of("BTC.trade", "BTC.balances"), after.getJsonArray("subscribed").getList(), after.encode());
      String marker = UUID.randomUUID().toString();
      AuthWs.produce(kafka, topics.trades(), "BTC", AuthWs.trade("t-" + marker));
      AuthWs.produce(kafka, topics.balances(), "BTC", AuthWs.balance(user, "b-" + marker));
      c.awaitData("BTC.trade", "t-" + marker);
      c.awaitData("BTC.balances", "b-" + marker);
      // authenticated in time: no 4002 after the timeout and two sweeps
      long past = openedAt + TIMEOUT_MS + 2500;
      Await.until("the timeout passed", Duration.ofSeconds(60), Duration.ofMillis(50), () -> System.currentTimeMillis() > past);
      assertEquals("pong", c.heartbeat().getString("type"));
      assertNull(c.closeCode);
    }
    assertEquals(3, delta(before, AuthWs.metrics(required), "ws_subscriptions_refused_total", "reason=\"auth_required\""));
  }

  @Test
  void requiredClosesWith4002WithoutAValidTokenInTime() throws Exception {
    String before = AuthWs.metrics(required);
    try (AuthWs.Client silent = AuthWs.Client.open(ws, required.port());
         AuthWs.Client failing = AuthWs.Client.open(ws, required.port())) {
      JsonObject refused = failing.auth(hs256(claims(user(), -1, null).put("exp", AuthWs.nowSeconds() - 3600)));
      assertEquals("TOKEN_EXPIRED", refused.getString("code"), refused.encode());
      for (AuthWs.Client c : List.of(silent, failing)) {
        c.awaitClose();
        assertEquals((short) 4002, c.closeCode, c.closeReason);
        assertEquals("Authentication timeout", c.closeReason);
      }
    }
    Await.until("the closes counted", AuthWs.WITHIN,
        () -> delta(before, AuthWs.metrics(required), "ws_disconnects_total", "reason=\"auth_timeout\"") == 2);
  }

  @Test
  void requiredWithATokenOnTheUpgradeIsAuthenticatedFromTheFirstFrame() throws Exception {
    String byHeader = user();
    String byQuery = user();
    try (AuthWs.Client h = AuthWs.Client.bearer(ws, required.port(), hs256(claims(byHeader, 600, null)));
         AuthWs.Client q = AuthWs.Client.open(ws, required.port(), AuthWs.query(hs256(claims(byQuery, 600, null))), null)) {
      for (AuthWs.Client c : List.of(h, q)) {
        JsonObject ack = c.subscribe("BTC.trade", "BTC.balances");
        assertEquals(List.of("BTC.trade", "BTC.balances"), ack.getJsonArray("subscribed").getList(), ack.encode());
      }
      String marker = UUID.randomUUID().toString();
      AuthWs.produce(kafka, topics.balances(), "BTC", AuthWs.balance(byHeader, "h-" + marker), AuthWs.balance(byQuery, "q-" + marker));
      h.awaitData("BTC.balances", "h-" + marker);
      q.awaitData("BTC.balances", "q-" + marker);
      assertTrue(!h.hasData("q-" + marker) && !q.hasData("h-" + marker), "each user's own records only");
    }
  }

  @Test
  void aSubscribeOnTheUpgradeHasTheUpgradesTokenAndWithoutOneIsRefused() throws Exception {
    String user = user();
    String uri = "/ws?subscribe=BTC.trade,BTC.balances";
    try (AuthWs.Client anonymous = AuthWs.Client.open(ws, required.port(), uri, null);
         AuthWs.Client authenticated = AuthWs.Client.open(ws, required.port(), uri, "Bearer " + hs256(claims(user, 600, null)))) {
      JsonObject refused = anonymous.await(0, m -> "subscription_ack".equals(m.getString("type")), "the anonymous upgrade's ack");
      assertEquals(new JsonArray(), refused.getJsonArray("subscribed"), refused.encode());
      assertEquals(List.of(AUTH_REQUIRED, AUTH_REQUIRED),
          refused.getJsonArray("rejected").stream().map(r -> ((JsonObject) r).getString("reason")).toList(), refused.encode());
      JsonObject ack = authenticated.await(0, m -> "subscription_ack".equals(m.getString("type")), "the authenticated upgrade's ack");
      assertEquals(List.of("BTC.trade", "BTC.balances"), ack.getJsonArray("subscribed").getList(), ack.encode());
      String marker = UUID.randomUUID().toString();
      AuthWs.produce(kafka, topics.balances(), "BTC", AuthWs.balance(user, "b-" + marker));
      authenticated.awaitData("BTC.balances", "b-" + marker);
    }
  }

  @Test
  void offIgnoresTokensAnswersAuthDisabledAndDeliversBalancesToEveryone() throws Exception {
    String before = AuthWs.metrics(off);
    try (AuthWs.Client badHeader = AuthWs.Client.bearer(ws, off.port(), "this-is-no-jwt");
         AuthWs.Client badQuery = AuthWs.Client.open(ws, off.port(), AuthWs.query("this-is-no-jwt"), null)) {
      JsonObject reply = badHeader.auth(hs256(claims(user(), 600, null)));
      assertEquals(new JsonObject().put("type", "auth_error").put("code", "AUTH_DISABLED")
          .put("message", "Authentication is off on this server: every channel is open without a token"), reply);
      for (AuthWs.Client c : List.of(badHeader, badQuery)) {
        JsonObject ack = c.subscribe("BTC.balances", "*.balances");
        assertEquals(2, ack.getJsonArray("subscribed").size(), ack.encode());
      }
      String marker = UUID.randomUUID().toString();
      AuthWs.produce(kafka, topics.balances(), "BTC", AuthWs.balance(user(), marker));
      badHeader.awaitData("BTC.balances", marker);
      badQuery.awaitData("BTC.balances", marker);
    }
    String after = AuthWs.metrics(off);
    assertEquals(1, delta(before, after, "ws_auth_total", "result=\"disabled\""));
    assertEquals(0, delta(before, after, "ws_auth_total", "result=\"malformed\""), "tokens on the upgrade are not read");
  }
}
