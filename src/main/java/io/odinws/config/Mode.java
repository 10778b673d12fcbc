package io.odinws.config;

/** Deployment mode: one shard, or one shard per core (or {@code shards} when set). */
public enum Mode {
  SINGLE, MULTI;

  static Mode parse(String key, String value) {
    for (Mode m : values()) {
      if (m.name().equalsIgnoreCase(value)) {
        return m;
      }
    }
    throw new ConfigException("invalid configuration: " + key + " = '" + value + "'; accepted values: single, multi");
  }
}
