package io.odinws.config;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The {@code delivery} section: category -> all | latest (PROTOCOL.md section 9). */
class DeliveryConfigTest {

  @Test
  void analyticsAndMetadataAreLatestByDefaultEveryOtherCategoryAll() {
    DeliveryConfig d = ConfigLoader.resolve(new JsonObject(), Map.of()).delivery();
    assertEquals(DeliveryConfig.Mode.LATEST, d.of("analytics"));
    assertEquals(DeliveryConfig.Mode.LATEST, d.of("metadata"));
    assertEquals(DeliveryConfig.Mode.ALL, d.of("trade"));
    assertEquals(DeliveryConfig.Mode.ALL, d.of("balances"));
    assertEquals(Set.of("*.analytics", "*.metadata"), d.latestCategoryKeys());
  }

  @Test
  void aDeploymentSetsEachCategory() {
    DeliveryConfig d = ConfigLoader.resolve(new JsonObject().put("delivery",
        new JsonObject().put("analytics", "all").put("liquidity", "latest")), Map.of()).delivery();
    assertEquals(DeliveryConfig.Mode.ALL, d.of("analytics"));
    assertEquals(DeliveryConfig.Mode.LATEST, d.of("liquidity"));
    assertEquals(DeliveryConfig.Mode.LATEST, d.of("metadata"));
  }

  @Test
  void anUnknownCategoryOrValueIsAConfigurationErrorNamingTheKey() {
    ConfigException unknownCategory = assertThrows(ConfigException.class, () -> ConfigLoader.resolve(
        new JsonObject().put("delivery", new JsonObject().put("candles", "latest")), Map.of()));
    assertTrue(unknownCategory.getMessage().contains("delivery.candles"), unknownCategory.getMessage());
    assertTrue(unknownCategory.getMessage().contains("unknown category"), unknownCategory.getMessage());
    ConfigException badValue = assertThrows(ConfigException.class, () -> ConfigLoader.resolve(
        new JsonObject().put("delivery", new JsonObject().put("trade", "newest")), Map.of()));
    assertEquals("invalid configuration: delivery.trade = 'newest'; accepted values: all, latest", badValue.getMessage());
    ConfigException notAnObject = assertThrows(ConfigException.class, () -> ConfigLoader.resolve(
        new JsonObject().put("delivery", "latest"), Map.of()));
    assertTrue(notAnObject.getMessage().startsWith("invalid configuration: delivery = 'latest'"), notAnObject.getMessage());
  }

  @Test
  void aTopicMapWithoutAnalyticsDropsTheDefaultEntryButNotTheDeploymentsOwn() {
    JsonObject topics = new JsonObject().put("kafka", new JsonObject().put("topics", new JsonObject().put("t.trades", "trade")));
    DeliveryConfig d = ConfigLoader.resolve(topics, Map.of()).delivery();
    assertEquals(Set.of(), d.latestCategoryKeys());
    ConfigException own = assertThrows(ConfigException.class, () -> ConfigLoader.resolve(
        topics.copy().put("delivery", new JsonObject().put("analytics", "latest")), Map.of()));
    assertTrue(own.getMessage().contains("delivery.analytics"), own.getMessage());
  }
}
