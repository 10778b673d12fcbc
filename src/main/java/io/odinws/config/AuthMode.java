package io.odinws.config;

/** Whether connections authenticate (docs/protocol.md, authentication). */
public enum AuthMode {
  /** No authentication: every channel is open to every connection, tokens are ignored (the Go server's behaviour). */
  OFF,
  /** Anonymous connections get public channels; an authenticated one also gets its own private records. */
  OPTIONAL,
  /** No subscription without a valid token. */
  REQUIRED;

  static AuthMode parse(String key, String value) {
    for (AuthMode m : values()) {
      if (m.name().equalsIgnoreCase(value)) {
        return m;
      }
    }
    throw new ConfigException("invalid configuration: " + key + " = '" + value + "'; accepted values: off, optional, required");
  }
}
