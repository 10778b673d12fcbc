package io.odinws.config;

import io.odinws.envelope.ChannelName;

import io.vertx.core.json.JsonObject;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The whole, validated server configuration. Built only through {@link #from(JsonObject)}, which
 * rejects any invalid value with a message naming the key and what is accepted.
 */
public record OdinConfig(Mode mode, int shards, int maxConnections, HttpConfig http, OpsConfig ops, PagesConfig pages, WsConfig ws,
                         KafkaConfig kafka, LimitsConfig limits, AdmissionConfig admission, RecoveryConfig recovery,
                         AuthConfig auth, long drainMs, long reloadScanPeriodMs,
                         DeliveryConfig delivery) {

  /** Shards actually deployed: 1 in single mode, else {@code shards}, or one per core when 0. */
  public int shardCount() {
    if (mode == Mode.SINGLE) {
      return 1;
    }
    return shards > 0 ? shards : Runtime.getRuntime().availableProcessors();
  }

  /** Whether the keys that can change while running (mode, shards, maxConnections) differ. */
  public boolean shardingDiffers(OdinConfig other) {
    return shardCount() != other.shardCount() || maxConnections != other.maxConnections || mode != other.mode;
  }

  /** The connection maximum of one shard: the total split evenly, the remainder to the first shards. */
  public int maxConnectionsOfShard(int shardIndex) {
    int n = shardCount();
    return maxConnections / n + (shardIndex < maxConnections % n ? 1 : 0);
  }

  public static OdinConfig from(JsonObject json) {
    Reader r = new Reader(json);
    Mode mode = Mode.parse("mode", r.string("mode"));
    int shards = r.intIn("shards", 0, 256);
    int maxConnections = r.intIn("maxConnections", 1, 10_000_000);
    HttpConfig http = new HttpConfig(r.string("http.host"), r.intIn("http.port", 0, 65535), r.bool("http.reusePort"));
    OpsConfig ops = new OpsConfig(r.string("ops.host"), r.intIn("ops.port", OpsConfig.OFF, 65535),
        r.longIn("ops.shardStallMs", 1_000, 3_600_000));
    if (ops.port() > 0 && ops.port() == http.port()) {
      throw new ConfigException("invalid configuration: ops.port = " + ops.port() + " is http.port too; accepted values: "
          + "another port, 0 (any free port) or -1 (no operations port: /health and /metrics on the public port only)");
    }
    WsConfig ws = new WsConfig(
        r.string("ws.path"),
        r.intIn("ws.maxMessageBytes", 128, 16 * 1024 * 1024),
        r.intIn("ws.maxChannelsPerConnection", 1, 1_000_000),
        r.longIn("ws.pingIntervalMs", 100, 3_600_000),
        r.longIn("ws.idleTimeoutMs", 100, 86_400_000),
        r.longIn("ws.handshakeTimeoutMs", 100, 600_000),
        r.longIn("ws.flushDelayMicros", 0, 100_000),
        new CompressionConfig(r.bool("ws.compression.enabled"), r.intIn("ws.compression.minBytes", 0, 16 * 1024 * 1024),
            r.intIn("ws.compression.level", 1, 9)));
    if (!ws.path().startsWith("/")) {
      throw new ConfigException("invalid configuration: ws.path = '" + ws.path() + "'; accepted values: a path starting with '/'");
    }
    PagesConfig pages = pages(r);
    KafkaConfig kafka = new KafkaConfig(
        r.string("kafka.bootstrap"),
        r.topics("kafka.topics"),
        r.longIn("kafka.pollTimeoutMs", 1, 60_000),
        r.intIn("kafka.fetchMaxWaitMs", 0, 60_000),
        r.longIn("kafka.healthCheckIntervalMs", 100, 600_000));
    LimitsConfig limits = new LimitsConfig(
        r.intIn("limits.messagesPerSecond", 1, 1_000_000),
        r.intIn("limits.messageBurst", 1, 1_000_000),
        r.intIn("limits.floodFactor", 1, 1000),
        r.intIn("limits.floodSeconds", 1, 3600),
        r.intIn("limits.outboundHighWaterBytes", 1024, 1 << 30),
        r.intIn("limits.outboundHardCapBytes", 1024, 1 << 30),
        r.longIn("limits.slowClientGraceMs", 0, 600_000));
    if (limits.outboundHardCapBytes() < limits.outboundHighWaterBytes()) {
      throw new ConfigException("invalid configuration: limits.outboundHardCapBytes = " + limits.outboundHardCapBytes()
          + " is below limits.outboundHighWaterBytes = " + limits.outboundHighWaterBytes() + "; accepted values: hard cap >= high water mark");
    }
    AdmissionConfig admission = new AdmissionConfig(
        r.bool("admission.enabled"),
        r.intIn("admission.ipBurst", 1, 10_000_000),
        r.doubleIn("admission.ipPerSecond", 0.001, 10_000_000),
        r.intIn("admission.globalBurst", 1, 10_000_000),
        r.doubleIn("admission.globalPerSecond", 0.001, 10_000_000),
        r.strings("admission.trustedProxies"),
        r.strings("admission.allowedOrigins"),
        r.doubleIn("admission.cpuRejectPercent", 0.01, 100),
        r.doubleIn("admission.heapRejectPercent", 0.01, 100),
        r.intIn("admission.ipMaxConnections", 0, 10_000_000),
        r.bool("admission.exemptLoopback"),
        r.intIn("admission.cpuSustainSeconds", 1, 3600),
        r.intIn("admission.rateRefusalDelayMs", 0, 60_000));
    RecoveryConfig recovery = new RecoveryConfig(
        r.longIn("recovery.historyBytes", 0, 1L << 40),
        r.longIn("recovery.historyMaxAgeMs", 0, 86_400_000),
        r.intIn("recovery.maxMessagesPerRequest", 0, 100_000_000),
        r.intIn("recovery.maxMessagesPerSecond", 1, 100_000_000),
        r.longIn("recovery.kafkaReadTimeoutMs", 100, 600_000),
        r.intIn("recovery.maxRecordsPerKafkaRead", 1, 100_000_000),
        r.intIn("recovery.maxHeldBackPerChannel", 1, 100_000_000),
        r.intIn("recovery.maxSnapshotMessages", 0, 1_000_000));
    AuthConfig auth = auth(r, kafka);
    long drainMs = r.longIn("shutdown.drainMs", 0, 600_000);
    long reloadScanPeriodMs = r.longIn("reload.scanPeriodMs", 100, 3_600_000);
    DeliveryConfig delivery = delivery(r, kafka);
    OdinConfig config = new OdinConfig(mode, shards, maxConnections, http, ops, pages, ws, kafka, limits, admission, recovery,
        auth, drainMs, reloadScanPeriodMs, delivery);
    if (maxConnections < config.shardCount()) {
      throw new ConfigException("invalid configuration: maxConnections = " + maxConnections + " is below the shard count "
          + config.shardCount() + "; accepted values: maxConnections >= the number of shards");
    }
    return config;
  }

  /**
   * The market page subscribes {@code <token>.trade} for every token, on one connection. Not checked against
   * ws.maxChannelsPerConnection: a deployment with a lower limit still starts, and the page shows the channels the
   * server rejected.
   */
  private static PagesConfig pages(Reader r) {
    PagesConfig pages = new PagesConfig(r.bool("pages.enabled"), r.strings("pages.marketTokens"));
    int max = 1000;
    if (pages.marketTokens().isEmpty() || pages.marketTokens().size() > max) {
      throw new ConfigException("invalid configuration: pages.marketTokens has " + pages.marketTokens().size()
          + " tokens; accepted values: 1 to " + max + " tokens (the market page subscribes them all on one connection)");
    }
    for (String token : pages.marketTokens()) {
      String problem = ChannelName.problem(token + ".trade", java.util.Set.of("trade"));
      if (problem != null || token.indexOf('*') >= 0) {
        throw new ConfigException("invalid configuration: pages.marketTokens has '" + token + "' ("
            + (problem == null ? "a wildcard" : problem) + "); accepted values: record keys of the trade topic, such as BTC");
      }
    }
    return pages;
  }

  /** {@code delivery}: category -> all | latest, for categories of kafka.topics; absent: every category {@code all}. */
  private static DeliveryConfig delivery(Reader r, KafkaConfig kafka) {
    Object v = r.root().getValue("delivery");
    if (v == null) {
      return new DeliveryConfig(Map.of());
    }
    if (!(v instanceof JsonObject obj)) {
      throw new ConfigException("invalid configuration: delivery = '" + v + "'; accepted values: an object of category -> \"all\" | \"latest\"");
    }
    java.util.Set<String> categories = new java.util.TreeSet<>(kafka.topics().values());
    Map<String, DeliveryConfig.Mode> modes = new LinkedHashMap<>();
    for (Map.Entry<String, Object> e : obj) {
      String key = "delivery." + e.getKey();
      if (!categories.contains(e.getKey())) {
        throw new ConfigException("invalid configuration: " + key + " names an unknown category; accepted values: categories of kafka.topics ("
            + String.join(", ", categories) + ")");
      }
      modes.put(e.getKey(), DeliveryConfig.Mode.parse(key, e.getValue()));
    }
    return new DeliveryConfig(modes);
  }

  private static AuthConfig auth(Reader r, KafkaConfig kafka) {
    AuthConfig auth = new AuthConfig(
        AuthMode.parse("auth.mode", r.string("auth.mode")),
        r.string("auth.algorithm").toUpperCase(java.util.Locale.ROOT),
        r.optionalString("auth.hmacSecretFile"),
        r.optionalString("auth.hmacSecretEnv"),
        r.optionalString("auth.publicKeyFile"),
        r.optionalString("auth.jwksFile"),
        r.optionalString("auth.issuer"),
        r.optionalString("auth.audience"),
        r.longIn("auth.leewaySeconds", 0, 3600),
        r.longIn("auth.timeoutMs", 100, 600_000),
        r.intIn("auth.maxConnectionsPerUser", 0, 10_000_000),
        r.bool("auth.queryToken"),
        r.string("auth.channelsClaim"),
        r.pointers("auth.privateTopics"),
        r.longIn("auth.keyReloadMs", 100, 3_600_000));
    if (!AuthConfig.ALGORITHMS.contains(auth.algorithm())) {
      throw new ConfigException("invalid configuration: auth.algorithm = '" + auth.algorithm() + "'; accepted values: "
          + String.join(", ", AuthConfig.ALGORITHMS));
    }
    for (String topic : auth.privateTopics().keySet()) {
      if (!kafka.topics().containsKey(topic)) {
        throw new ConfigException("invalid configuration: auth.privateTopics." + topic + " names a topic missing from kafka.topics;"
            + " accepted values: topics of kafka.topics");
      }
    }
    if (auth.enabled()) {
      boolean hmac = auth.algorithm().equals("HS256");
      if (hmac && auth.hmacSecretFile().isEmpty() && auth.hmacSecretEnv().isEmpty()) {
        throw new ConfigException("invalid configuration: auth.algorithm = HS256 needs auth.hmacSecretFile or auth.hmacSecretEnv");
      }
      if (!hmac && auth.publicKeyFile().isEmpty() && auth.jwksFile().isEmpty()) {
        throw new ConfigException("invalid configuration: auth.algorithm = " + auth.algorithm() + " needs auth.publicKeyFile or auth.jwksFile");
      }
    }
    return auth;
  }

  /** Reads dotted keys from nested JSON, failing with the key's name and the accepted values. */
  private record Reader(JsonObject root) {

    Object value(String key) {
      Object node = root;
      for (String part : key.split("\\.")) {
        if (!(node instanceof JsonObject obj) || !obj.containsKey(part)) {
          throw new ConfigException("missing configuration key: " + key);
        }
        node = obj.getValue(part);
      }
      return node;
    }

    String string(String key) {
      Object v = value(key);
      if (!(v instanceof String s) || s.isBlank()) {
        throw new ConfigException("invalid configuration: " + key + " = '" + v + "'; accepted values: a non-empty string");
      }
      return s;
    }

    long longIn(String key, long min, long max) {
      Object v = value(key);
      long n;
      if (v instanceof Number num && num.doubleValue() == num.longValue()) {
        n = num.longValue();
      } else if (v instanceof String s && s.matches("-?\\d+")) {
        n = Long.parseLong(s);
      } else {
        throw new ConfigException("invalid configuration: " + key + " = '" + v + "'; accepted values: an integer from " + min + " to " + max);
      }
      if (n < min || n > max) {
        throw new ConfigException("invalid configuration: " + key + " = " + n + "; accepted values: an integer from " + min + " to " + max);
      }
      return n;
    }

    double doubleIn(String key, double min, double max) {
      Object v = value(key);
      double n;
      if (v instanceof Number num) {
        n = num.doubleValue();
      } else if (v instanceof String s && s.matches("-?\\d+(\\.\\d+)?")) {
        n = Double.parseDouble(s);
      } else {
        throw new ConfigException("invalid configuration: " + key + " = '" + v + "'; accepted values: a number from " + min + " to " + max);
      }
      if (n < min || n > max) {
        throw new ConfigException("invalid configuration: " + key + " = " + n + "; accepted values: a number from " + min + " to " + max);
      }
      return n;
    }

    /** A string that may be empty (not set). */
    String optionalString(String key) {
      Object v = value(key);
      if (!(v instanceof String s)) {
        throw new ConfigException("invalid configuration: " + key + " = '" + v + "'; accepted values: a string (empty: not set)");
      }
      return s.strip();
    }

    /** An object of name to a non-empty array of JSON pointers (RFC 6901: each starts with '/'). */
    Map<String, java.util.List<String>> pointers(String key) {
      Object v = value(key);
      if (!(v instanceof JsonObject obj)) {
        throw new ConfigException("invalid configuration: " + key + "; accepted values: an object of topic -> [\"/json/pointer\", ...]");
      }
      Map<String, java.util.List<String>> out = new LinkedHashMap<>();
      for (Map.Entry<String, Object> e : obj) {
        if (!(e.getValue() instanceof io.vertx.core.json.JsonArray a) || a.isEmpty()
            || !a.stream().allMatch(x -> x instanceof String s && s.startsWith("/"))) {
          throw new ConfigException("invalid configuration: " + key + "." + e.getKey() + " = '" + e.getValue()
              + "'; accepted values: a non-empty array of JSON pointers, each starting with '/'");
        }
        out.put(e.getKey(), a.stream().map(String.class::cast).toList());
      }
      return Map.copyOf(out);
    }

    boolean bool(String key) {
      Object v = value(key);
      if (v instanceof Boolean b) {
        return b;
      }
      if (v instanceof String s && (s.equalsIgnoreCase("true") || s.equalsIgnoreCase("false"))) {
        return Boolean.parseBoolean(s);
      }
      throw new ConfigException("invalid configuration: " + key + " = '" + v + "'; accepted values: true, false");
    }

    java.util.List<String> strings(String key) {
      Object v = value(key);
      if (v instanceof String s) {
        // from the environment: comma-separated
        return s.isBlank() ? java.util.List.of() : java.util.List.of(s.split("\\s*,\\s*"));
      }
      if (v instanceof io.vertx.core.json.JsonArray a && a.stream().allMatch(x -> x instanceof String)) {
        return a.stream().map(String.class::cast).toList();
      }
      throw new ConfigException("invalid configuration: " + key + " = '" + v + "'; accepted values: an array of strings");
    }

    int intIn(String key, int min, int max) {
      return (int) longIn(key, min, max);
    }

    Map<String, String> topics(String key) {
      Object v = value(key);
      if (!(v instanceof JsonObject obj) || obj.isEmpty()) {
        throw new ConfigException("invalid configuration: " + key + "; accepted values: a non-empty object of topic -> category");
      }
      Map<String, String> topics = new LinkedHashMap<>();
      for (Map.Entry<String, Object> e : obj) {
        if (!(e.getValue() instanceof String category) || !ChannelName.isValidCategory(category)) {
          throw new ConfigException("invalid configuration: " + key + "." + e.getKey() + " = '" + e.getValue()
              + "'; accepted values: a category name of printable ASCII without '.', '*', quotes or backslashes");
        }
        topics.put(e.getKey(), category);
      }
      return Map.copyOf(topics);
    }
  }
}
