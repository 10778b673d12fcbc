package io.odinws.config;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ConfigLoaderTest {

  @Test
  void defaultsAreValid() {
    OdinConfig c = ConfigLoader.resolve(new JsonObject(), Map.of());
    assertEquals(Mode.MULTI, c.mode());
    assertEquals(Runtime.getRuntime().availableProcessors(), c.shardCount());
    assertEquals(8, c.kafka().topics().size());
    assertEquals("trade", c.kafka().topics().get("odin.trades"));
    assertEquals(65536, c.ws().maxMessageBytes());
    assertEquals(25_000, c.ws().pingIntervalMs());
    assertEquals(60_000, c.ws().idleTimeoutMs());
  }

  @Test
  void fileOverridesDefaultsAndTheEnvironmentOverridesTheFile() {
    JsonObject file = new JsonObject().put("mode", "multi").put("shards", 3)
        .put("kafka", new JsonObject().put("bootstrap", "file:9092"));
    OdinConfig fromFile = ConfigLoader.resolve(file, Map.of());
    assertEquals(3, fromFile.shardCount());
    assertEquals("file:9092", fromFile.kafka().bootstrap());
    assertEquals(8, fromFile.kafka().topics().size(), "nested objects merge deeply");

    OdinConfig fromEnv = ConfigLoader.resolve(file, Map.of("WS_MODE", "single", "NUM_SHARDS", "4",
        "WS_MAX_CONNECTIONS", "1234", "KAFKA_BROKERS", "env:9092", "WS_PORT", "9999", "OPS_PORT", "-1"));
    assertEquals(Mode.SINGLE, fromEnv.mode());
    assertEquals(1, fromEnv.shardCount(), "single mode is one shard whatever the count");
    assertEquals(1234, fromEnv.maxConnections());
    assertEquals("env:9092", fromEnv.kafka().bootstrap());
    assertEquals(9999, fromEnv.http().port());
    assertFalse(fromEnv.ops().enabled(), "OPS_PORT=-1: no operations port");
    assertEquals(8081, fromFile.ops().port());
  }

  @Test
  void invalidValuesNameTheKeyAndTheAcceptedValues() {
    ConfigException mode = assertThrows(ConfigException.class, () -> ConfigLoader.resolve(new JsonObject(), Map.of("WS_MODE", "turbo")));
    assertTrue(mode.getMessage().contains("mode") && mode.getMessage().contains("single, multi"), mode.getMessage());
    ConfigException shards = assertThrows(ConfigException.class, () -> ConfigLoader.resolve(new JsonObject(), Map.of("NUM_SHARDS", "many")));
    assertTrue(shards.getMessage().contains("shards") && shards.getMessage().contains("integer from 0 to 256"), shards.getMessage());
    ConfigException port = assertThrows(ConfigException.class,
        () -> ConfigLoader.resolve(new JsonObject().put("http", new JsonObject().put("port", 70000)), Map.of()));
    assertTrue(port.getMessage().contains("http.port"), port.getMessage());
    ConfigException samePort = assertThrows(ConfigException.class, () -> ConfigLoader.resolve(new JsonObject(), Map.of("OPS_PORT", "8080")));
    assertTrue(samePort.getMessage().contains("ops.port") && samePort.getMessage().contains("-1"), samePort.getMessage());
    ConfigException topics = assertThrows(ConfigException.class,
        () -> ConfigLoader.resolve(new JsonObject().put("kafka", new JsonObject().put("topics", new JsonObject().put("t", "a.b"))), Map.of()));
    assertTrue(topics.getMessage().contains("kafka.topics"), topics.getMessage());
  }

  @Test
  void thePagesShowTheDemoPublishersTokensUnlessToldOtherwise() {
    PagesConfig pages = ConfigLoader.resolve(new JsonObject(), Map.of()).pages();
    assertTrue(pages.enabled());
    assertEquals(20, pages.marketTokens().size());
    assertEquals(java.util.List.of("BTC", "ETH"),
        ConfigLoader.resolve(new JsonObject().put("pages", new JsonObject().put("marketTokens", new io.vertx.core.json.JsonArray()
            .add("BTC").add("ETH"))), Map.of()).pages().marketTokens());
    for (String bad : new String[] {"*", "a b", ""}) {
      ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.resolve(new JsonObject()
          .put("pages", new JsonObject().put("marketTokens", new io.vertx.core.json.JsonArray().add(bad))), Map.of()));
      assertTrue(e.getMessage().contains("pages.marketTokens"), e.getMessage());
    }
    ConfigException none = assertThrows(ConfigException.class, () -> ConfigLoader.resolve(new JsonObject()
        .put("pages", new JsonObject().put("marketTokens", new io.vertx.core.json.JsonArray())), Map.of()));
    assertTrue(none.getMessage().contains("1 to 1000"), none.getMessage());
  }

  @Test
  void theTotalMaximumIsSplitAcrossShards() {
    OdinConfig c = ConfigLoader.resolve(new JsonObject().put("shards", 3).put("maxConnections", 7), Map.of());
    assertEquals(3, c.maxConnectionsOfShard(0));
    assertEquals(2, c.maxConnectionsOfShard(1));
    assertEquals(2, c.maxConnectionsOfShard(2));
  }

  @Test
  void confArgumentAcceptsInlineJsonAndReportsMissingFiles() {
    assertEquals("single", ConfigLoader.readConfArgument("{\"mode\":\"single\"}").getString("mode"));
    ConfigException missing = assertThrows(ConfigException.class, () -> ConfigLoader.readConfArgument("/no/such/file.json"));
    assertTrue(missing.getMessage().contains("not found"), missing.getMessage());
  }

  @Test
  void aDeploymentsTopicMapReplacesTheDefaultOne() {
    OdinConfig c = ConfigLoader.resolve(new JsonObject().put("kafka", new JsonObject()
        .put("topics", new JsonObject().put("odin.trades", "trade").put("x.fills", "fill"))), Map.of());
    assertEquals(Map.of("odin.trades", "trade", "x.fills", "fill"), c.kafka().topics());
  }

  @Test
  void maxConnectionsBelowTheShardCountIsRejected() {
    ConfigException e = assertThrows(ConfigException.class,
        () -> ConfigLoader.resolve(new JsonObject().put("shards", 4).put("maxConnections", 3), Map.of()));
    assertTrue(e.getMessage().contains("maxConnections"), e.getMessage());
  }

  @Test
  void authDefaultsAreOffWithOdinBalancesPrivateByItsParties() {
    AuthConfig a = ConfigLoader.resolve(new JsonObject(), Map.of()).auth();
    assertEquals(AuthMode.OFF, a.mode());
    assertFalse(a.enabled());
    assertEquals("HS256", a.algorithm());
    assertEquals("ODIN_JWT_SECRET", a.hmacSecretEnv());
    assertEquals("", a.hmacSecretFile());
    assertEquals(30, a.leewaySeconds());
    assertEquals(10_000, a.timeoutMs());
    assertEquals(100, a.maxConnectionsPerUser());
    assertTrue(a.queryToken());
    assertEquals("channels", a.channelsClaim());
    assertEquals(5000, a.keyReloadMs());
    assertEquals(Map.of("odin.balances", List.of("/data/user", "/data/from", "/data/to")), a.privateTopics());
    assertFalse(a.effectivePrivateTopics().containsKey("odin.balances"), "mode off: balances go to everyone, as before");
  }

  @Test
  void authEnvironmentOverrides() {
    AuthConfig a = ConfigLoader.resolve(new JsonObject(), Map.of("AUTH_MODE", "Required", "AUTH_ALGORITHM", "rs256",
        "AUTH_PUBLIC_KEY_FILE", "/keys/jwt.pem", "AUTH_JWKS_FILE", "/keys/jwks.json", "AUTH_ISSUER", "https://auth.odin",
        "AUTH_AUDIENCE", "odin-ws", "AUTH_MAX_CONNECTIONS_PER_USER", "7", "AUTH_HMAC_SECRET_FILE", "/secrets/jwt")).auth();
    assertEquals(AuthMode.REQUIRED, a.mode());
    assertEquals("RS256", a.algorithm());
    assertEquals("/keys/jwt.pem", a.publicKeyFile());
    assertEquals("/keys/jwks.json", a.jwksFile());
    assertEquals("https://auth.odin", a.issuer());
    assertEquals("odin-ws", a.audience());
    assertEquals(7, a.maxConnectionsPerUser());
    assertEquals("/secrets/jwt", a.hmacSecretFile());
    assertTrue(a.effectivePrivateTopics().containsKey("odin.balances"));
    assertFalse(a.effectivePrivateTopics().containsKey("odin.trades"));
  }

  @Test
  void invalidAuthSettingsAreRejected() {
    ConfigException alg = assertThrows(ConfigException.class, () -> ConfigLoader.resolve(new JsonObject(), Map.of("AUTH_ALGORITHM", "none")));
    assertTrue(alg.getMessage().contains("auth.algorithm") && alg.getMessage().contains("HS256, RS256, ES256"), alg.getMessage());
    ConfigException mode = assertThrows(ConfigException.class, () -> ConfigLoader.resolve(new JsonObject(), Map.of("AUTH_MODE", "maybe")));
    assertTrue(mode.getMessage().contains("auth.mode") && mode.getMessage().contains("off, optional, required"), mode.getMessage());
    ConfigException noSecret = assertThrows(ConfigException.class, () -> ConfigLoader.resolve(
        new JsonObject().put("auth", new JsonObject().put("mode", "optional").put("hmacSecretEnv", "")), Map.of()));
    assertTrue(noSecret.getMessage().contains("hmacSecretFile"), noSecret.getMessage());
    ConfigException noKey = assertThrows(ConfigException.class,
        () -> ConfigLoader.resolve(new JsonObject(), Map.of("AUTH_MODE", "optional", "AUTH_ALGORITHM", "ES256")));
    assertTrue(noKey.getMessage().contains("publicKeyFile"), noKey.getMessage());
    ConfigException unknownTopic = assertThrows(ConfigException.class, () -> ConfigLoader.resolve(new JsonObject().put("auth",
        new JsonObject().put("privateTopics", new JsonObject().put("odin.secrets", new JsonArray().add("/data/user")))), Map.of()));
    assertTrue(unknownTopic.getMessage().contains("auth.privateTopics.odin.secrets"), unknownTopic.getMessage());
    ConfigException limit = assertThrows(ConfigException.class,
        () -> ConfigLoader.resolve(new JsonObject(), Map.of("AUTH_MAX_CONNECTIONS_PER_USER", "-1")));
    assertTrue(limit.getMessage().contains("auth.maxConnectionsPerUser"), limit.getMessage());
  }

  @Test
  void aDeploymentsTopicMapDropsTheDefaultPrivateTopicsItDoesNotKeep() {
    OdinConfig without = ConfigLoader.resolve(new JsonObject().put("kafka", new JsonObject()
        .put("topics", new JsonObject().put("odin.trades", "trade"))), Map.of("AUTH_MODE", "optional"));
    assertEquals(Map.of(), without.auth().privateTopics());
    OdinConfig with = ConfigLoader.resolve(new JsonObject().put("kafka", new JsonObject()
        .put("topics", new JsonObject().put("odin.trades", "trade").put("odin.balances", "balances"))), Map.of("AUTH_MODE", "optional"));
    assertEquals(List.of("/data/user", "/data/from", "/data/to"), with.auth().privateTopics().get("odin.balances"));
  }
}
