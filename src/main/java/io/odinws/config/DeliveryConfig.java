package io.odinws.config;

import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * How live messages of each category reach a connection that reads too slowly (PROTOCOL.md sections 5 and 9):
 * {@code all} queues every message (and closes a client that stays behind with 1008), {@code latest} keeps only the
 * newest pending message per channel while the connection is over its outbound high water mark.
 *
 * @param categories category to its mode; a category not listed is {@link Mode#ALL}
 */
public record DeliveryConfig(Map<String, Mode> categories) {

  public DeliveryConfig {
    categories = Map.copyOf(categories);
  }

  /** Every category delivered {@code latest}, as {@code *.<category>} keys (the fan-out's category wildcard key). */
  public Set<String> latestCategoryKeys() {
    Set<String> keys = new TreeSet<>();
    categories.forEach((category, mode) -> {
      if (mode == Mode.LATEST) {
        keys.add("*." + category);
      }
    });
    return Set.copyOf(keys);
  }

  public Mode of(String category) {
    return categories.getOrDefault(category, Mode.ALL);
  }

  /** A category's delivery mode. */
  public enum Mode {
    ALL, LATEST;

    public static Mode parse(String key, Object value) {
      if ("all".equals(value)) {
        return ALL;
      }
      if ("latest".equals(value)) {
        return LATEST;
      }
      throw new ConfigException("invalid configuration: " + key + " = '" + value + "'; accepted values: all, latest");
    }
  }
}
