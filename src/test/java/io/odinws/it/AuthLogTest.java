package io.odinws.it;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.AppenderBase;
import io.odinws.testkit.EmbeddedKafka;
import io.odinws.testkit.KafkaBrokerExtension;
import io.odinws.tools.token.TokenMinter;
import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static io.odinws.it.AuthWs.claims;
import static io.odinws.it.AuthWs.hs256;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * No token, no {@code Authorization} value and no query string in any log line (issue 15, point 2): a server run
 * with the server's, Vert.x's and Netty's loggers at debug, where tokens are presented every way (header, query
 * parameter, {@code auth} message, refresh) and refused every way (401, 429, {@code auth_error},
 * {@code SUBJECT_MISMATCH}, {@code USER_CONNECTION_LIMIT}, 4001), and requests that are no upgrade carry a token
 * in their URL. Every line logged meanwhile, at any level, is searched for each secret; /metrics too.
 */
@ExtendWith(KafkaBrokerExtension.class)
class AuthLogTest {

  private static final String[] DEBUGGED = {"io.odinws", "io.vertx", "io.netty"};

  /** Every event logged while attached, formatted, with its throwable. */
  private static final class Capture extends AppenderBase<ILoggingEvent> {
    final List<String> lines = new CopyOnWriteArrayList<>();

    @Override
    protected void append(ILoggingEvent e) {
      String line = e.getLevel() + " " + e.getLoggerName() + " " + e.getFormattedMessage() + " " + e.getMDCPropertyMap();
      if (e.getThrowableProxy() != null) {
        line += "\n" + ThrowableProxyUtil.asString(e.getThrowableProxy());
      }
      lines.add(line);
    }
  }

  @Test
  void noTokenAuthorizationValueOrQueryStringIsEverLogged(EmbeddedKafka kafka, @TempDir Path dir) throws Exception {
    Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    Map<Logger, Level> saved = new LinkedHashMap<>();
    for (String name : DEBUGGED) {
      Logger l = (Logger) LoggerFactory.getLogger(name);
      saved.put(l, l.getLevel());
      l.setLevel(Level.DEBUG);
    }
    Capture capture = new Capture();
    capture.setContext(root.getLoggerContext());
    capture.setName("auth-log-capture");
    capture.start();
    root.addAppender(capture);
    List<String> secrets = new ArrayList<>();
    Vertx vertx = Vertx.vertx();
    try {
      run(kafka, dir, vertx.createWebSocketClient(), secrets);
    } finally {
      root.detachAppender(capture);
      capture.stop();
      saved.forEach(Logger::setLevel);
      vertx.close().await(30, TimeUnit.SECONDS);
    }
    assertTrue(capture.lines.stream().anyMatch(l -> l.contains("event=auth_refused")), "debug lines were captured: " + capture.lines.size());
    assertTrue(capture.lines.stream().anyMatch(l -> l.contains("event=connection_closed_unauthenticated")), "the 4001 was logged");
    List<String> leaks = new ArrayList<>();
    for (String line : capture.lines) {
      for (String secret : secrets) {
        if (line.contains(secret)) {
          leaks.add("[" + secret + "] in: " + line);
        }
      }
    }
    assertEquals(List.of(), leaks, "of " + capture.lines.size() + " lines");
  }

  /** Presents and fails tokens every way; collects into {@code secrets} every string no log line may hold. */
  private static void run(EmbeddedKafka kafka, Path dir, WebSocketClient ws, List<String> secrets) throws Exception {
    AuthWs.Topics topics = AuthWs.Topics.create(kafka);
    Path secretFile = Files.write(dir.resolve("secret"), AuthWs.SECRET);
    try (ServerHarness server = ServerHarness.start(kafka, new JsonObject().put("shards", 2).put("kafka", topics.kafka())
        .put("auth", new JsonObject().put("mode", "optional").put("hmacSecretFile", secretFile.toString()).put("leewaySeconds", 0)
            .put("maxConnectionsPerUser", 1).put("privateTopics", topics.privateTopics())))) {
      int port = server.port();
      String alice = "0xalice" + UUID.randomUUID().toString().substring(0, 8);
      String recordMarker = "record-value-" + UUID.randomUUID();
      secrets.add(recordMarker);
      secrets.add("Bearer ");
      secrets.add("token=");
      secrets.add(new String(AuthWs.SECRET, java.nio.charset.StandardCharsets.US_ASCII));

      String good = keep(secrets, hs256(claims(alice, 600, null)));
      String refresh = keep(secrets, hs256(claims(alice, 600, List.of("*.trade", "BTC.*"))));
      String otherSub = keep(secrets, hs256(claims("0xmallory", 600, null)));
      String expired = keep(secrets, hs256(claims(alice, -1, null).put("exp", AuthWs.nowSeconds() - 3600)));
      String otherKey = keep(secrets, TokenMinter.mint("HS256", TokenMinter.hmacKey("another-secret-of-more-than-thirty-two-bytes!!".getBytes()),
          null, claims(alice, 600, null)));
      String[] p = good.split("\\.");
      String none = keep(secrets, java.util.Base64.getUrlEncoder().withoutPadding().encodeToString("{\"alg\":\"none\"}".getBytes()) + "." + p[1] + ".");
      String garbage = keep(secrets, "garbage-token-" + UUID.randomUUID());
      String credentials = keep(secrets, java.util.Base64.getEncoder().encodeToString(("user:" + UUID.randomUUID()).getBytes()));
      String basic = "Basic " + credentials;
      List<String> bad = List.of(expired, otherKey, none, garbage);

      // refused on the upgrade, by header and by query
      for (String token : bad) {
        assertEquals(401, AuthWs.exchange(port, AuthWs.upgrade("/ws", "Bearer " + token)).status());
        assertEquals(401, AuthWs.exchange(port, AuthWs.upgrade(AuthWs.query(token), null)).status());
      }
      // a token in requests that are no upgrade or no valid one, and an Authorization of another scheme: refused, whatever the status
      for (String request : new String[] {
          "GET /elsewhere?token=" + garbage + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + garbage + "\r\nConnection: close\r\n\r\n",
          "GET /ws?token=" + garbage + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
          AuthWs.upgrade(AuthWs.query(garbage), "Bearer " + garbage).replace("Version: 13", "Version: 8"),
          AuthWs.upgrade("/ws?token=" + garbage + "&token=" + garbage, null)}) {
        AuthWs.Answer answer = AuthWs.exchange(port, request);
        assertTrue(answer.status() >= 400, answer.raw());
      }
      // a query that does not decode: its token is malformed, and the decoder's message (the whole URI) is not logged
      AuthWs.Answer undecodable = AuthWs.exchange(port, AuthWs.upgrade("/ws?token=" + garbage + "%zz", null));
      assertEquals(401, undecodable.status(), undecodable.raw());
      assertEquals("Bearer error=\"invalid_token\", error_description=\"malformed\"", undecodable.headers().get("www-authenticate"));
      // minted just before use: with leeway 0 it must still be valid when the upgrade arrives on a busy machine
      String shortLived = keep(secrets, hs256(claims("0xbob" + UUID.randomUUID().toString().substring(0, 8), 5, null)));
      try (AuthWs.Client byHeader = AuthWs.Client.bearer(ws, port, good);
           AuthWs.Client anonymous = AuthWs.Client.open(ws, port, "/ws", basic);
           AuthWs.Client expiring = AuthWs.Client.open(ws, port, AuthWs.query(shortLived), null)) {
        // 429 for a second connection of alice's, by header and by query; USER_CONNECTION_LIMIT by message
        assertEquals(429, AuthWs.exchange(port, AuthWs.upgrade("/ws", "Bearer " + good)).status());
        assertEquals(429, AuthWs.exchange(port, AuthWs.upgrade(AuthWs.query(good), null)).status());
        assertEquals("USER_CONNECTION_LIMIT", anonymous.auth(good).getString("code"));
        for (String token : bad) {
          assertEquals("auth_error", anonymous.auth(token).getString("type"));
          assertEquals("auth_error", byHeader.auth(token).getString("type"));
        }
        assertEquals("SUBJECT_MISMATCH", byHeader.auth(otherSub).getString("code"));
        assertEquals("auth_ack", byHeader.auth(refresh).getString("type"));
        assertEquals("INVALID_MESSAGE", anonymous.request("{\"type\":\"auth\",\"data\":{\"token\":7}}", "error").getString("code"));
        byHeader.subscribe("BTC.balances", "ETH.balances");
        AuthWs.produce(kafka, topics.balances(), "BTC", AuthWs.balance(alice, recordMarker));
        byHeader.awaitData("BTC.balances", recordMarker);
        expiring.awaitClose();
        assertEquals((short) 4001, expiring.closeCode);
      }
      String metrics = AuthWs.metrics(server);
      for (String secret : secrets) {
        assertFalse(metrics.contains(secret), "/metrics holds " + secret);
      }
    }
  }

  /** Adds the token and, for a JWT, its payload and signature parts (each names the token as well as the whole). */
  private static String keep(List<String> secrets, String token) {
    secrets.add(token);
    for (String part : token.split("\\.")) {
      if (part.length() >= 16 && !part.startsWith("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9")) {
        secrets.add(part);
      }
    }
    return token;
  }
}
