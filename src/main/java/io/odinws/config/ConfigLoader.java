package io.odinws.config;

import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Builds the effective configuration: the built-in defaults ({@code conf/default.json} on the class
 * path), deep-merged with the operator's file or inline JSON, then the environment overrides
 * (which include the names the replaced Go server read).
 */
public final class ConfigLoader {

  /** Environment variable to dotted configuration key. */
  static final Map<String, String> ENV_KEYS = Map.ofEntries(
      Map.entry("WS_MODE", "mode"),
      Map.entry("NUM_SHARDS", "shards"),
      Map.entry("WS_MAX_CONNECTIONS", "maxConnections"),
      Map.entry("WS_HOST", "http.host"),
      Map.entry("WS_PORT", "http.port"),
      Map.entry("WS_REUSE_PORT", "http.reusePort"),
      Map.entry("OPS_PORT", "ops.port"),
      Map.entry("KAFKA_BROKERS", "kafka.bootstrap"),
      Map.entry("CONN_RATE_LIMIT_ENABLED", "admission.enabled"),
      Map.entry("CONN_RATE_LIMIT_IP_BURST", "admission.ipBurst"),
      Map.entry("CONN_RATE_LIMIT_IP_RATE", "admission.ipPerSecond"),
      Map.entry("CONN_RATE_LIMIT_GLOBAL_BURST", "admission.globalBurst"),
      Map.entry("CONN_RATE_LIMIT_GLOBAL_RATE", "admission.globalPerSecond"),
      Map.entry("WS_CPU_REJECT_THRESHOLD", "admission.cpuRejectPercent"),
      Map.entry("WS_TRUSTED_PROXIES", "admission.trustedProxies"),
      Map.entry("WS_ALLOWED_ORIGINS", "admission.allowedOrigins"),
      Map.entry("WS_IP_MAX_CONNECTIONS", "admission.ipMaxConnections"),
      Map.entry("WS_EXEMPT_LOOPBACK", "admission.exemptLoopback"),
      Map.entry("AUTH_MODE", "auth.mode"),
      Map.entry("AUTH_ALGORITHM", "auth.algorithm"),
      Map.entry("AUTH_HMAC_SECRET_FILE", "auth.hmacSecretFile"),
      Map.entry("AUTH_PUBLIC_KEY_FILE", "auth.publicKeyFile"),
      Map.entry("AUTH_JWKS_FILE", "auth.jwksFile"),
      Map.entry("AUTH_ISSUER", "auth.issuer"),
      Map.entry("AUTH_AUDIENCE", "auth.audience"),
      Map.entry("AUTH_MAX_CONNECTIONS_PER_USER", "auth.maxConnectionsPerUser"));

  private ConfigLoader() {
  }

  public static JsonObject defaults() {
    try (InputStream in = ConfigLoader.class.getResourceAsStream("/conf/default.json")) {
      if (in == null) {
        throw new IllegalStateException("conf/default.json is missing from the class path");
      }
      return new JsonObject(new String(in.readAllBytes(), StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Reads {@code -conf}'s argument: a path to a JSON file, or inline JSON. */
  public static JsonObject readConfArgument(String fileOrJson) {
    String text = fileOrJson.strip();
    try {
      if (!text.startsWith("{")) {
        Path path = Path.of(text);
        if (!Files.isRegularFile(path)) {
          throw new ConfigException("configuration file not found: " + path.toAbsolutePath() + " (pass -conf <file.json> or inline JSON)");
        }
        text = Files.readString(path);
      }
      return new JsonObject(text);
    } catch (DecodeException e) {
      throw new ConfigException("configuration is not valid JSON (" + fileOrJson + "): " + e.getMessage());
    } catch (IOException e) {
      throw new ConfigException("cannot read configuration " + fileOrJson + ": " + e.getMessage());
    }
  }

  /**
   * Defaults, then {@code overrides}, then the environment; validated. Objects merge key by key,
   * except {@code kafka.topics} and {@code auth.privateTopics}: a deployment's map replaces the
   * default one, so topics can be removed as well as added.
   */
  public static OdinConfig resolve(JsonObject overrides, Map<String, String> env) {
    JsonObject merged = defaults().mergeIn(overrides == null ? new JsonObject() : overrides, true);
    JsonObject kafka = overrides == null ? null : overrides.getJsonObject("kafka");
    if (kafka != null && kafka.getValue("topics") instanceof JsonObject topics) {
      merged.getJsonObject("kafka").put("topics", topics.copy());
    }
    JsonObject auth = overrides == null ? null : overrides.getJsonObject("auth");
    if (auth != null && auth.getValue("privateTopics") instanceof JsonObject privateTopics) {
      merged.getJsonObject("auth").put("privateTopics", privateTopics.copy());
    } else if (kafka != null && kafka.getValue("topics") instanceof JsonObject topics) {
      // a deployment's own topic map: the default private topics apply only to topics it kept
      JsonObject kept = new JsonObject();
      merged.getJsonObject("auth").getJsonObject("privateTopics").forEach(e -> {
        if (topics.containsKey(e.getKey())) {
          kept.put(e.getKey(), e.getValue());
        }
      });
      merged.getJsonObject("auth").put("privateTopics", kept);
    }
    if (kafka != null && kafka.getValue("topics") instanceof JsonObject topics && merged.getValue("delivery") instanceof JsonObject delivery) {
      // a deployment's own topic map: the default delivery modes apply only to categories it kept (its own are validated)
      JsonObject own = overrides.getValue("delivery") instanceof JsonObject d ? d : new JsonObject();
      java.util.Set<Object> categories = new java.util.HashSet<>(topics.getMap().values());
      for (String category : java.util.List.copyOf(delivery.fieldNames())) {
        if (!own.containsKey(category) && !categories.contains(category)) {
          delivery.remove(category);
        }
      }
    }
    applyEnv(merged, env);
    return OdinConfig.from(merged);
  }

  static void applyEnv(JsonObject json, Map<String, String> env) {
    ENV_KEYS.forEach((variable, key) -> {
      String value = env.get(variable);
      if (value != null && !value.isBlank()) {
        set(json, key, value.strip());
      }
    });
  }

  private static void set(JsonObject json, String dottedKey, String value) {
    String[] parts = dottedKey.split("\\.");
    JsonObject node = json;
    for (int i = 0; i < parts.length - 1; i++) {
      JsonObject child = node.getJsonObject(parts[i]);
      if (child == null) {
        child = new JsonObject();
        node.put(parts[i], child);
      }
      node = child;
    }
    node.put(parts[parts.length - 1], value);
  }
}
