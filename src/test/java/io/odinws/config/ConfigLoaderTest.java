package io.odinws.config;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

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
}
