package io.odinws.auth;

import io.odinws.config.AuthConfig;
import io.odinws.config.ConfigException;
import io.odinws.internal.JwsKey;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Where the verification keys come from (an HMAC secret from a file or an environment variable, PEM
 * public keys, a JWKS) and their reload: a file whose modification time, size or identity changed is
 * read again; one that no longer parses keeps its previous keys. Reading is blocking file I/O: at
 * construction and from {@link #reloadIfChanged}, never on an event loop.
 */
final class KeyFiles {

  /** RFC 7518 3.2: an HS256 key at least as long as the hash output. */
  static final int MIN_HMAC_SECRET_BYTES = 32;

  private static final Logger LOG = LoggerFactory.getLogger(KeyFiles.class);
  private static final Pattern PEM_BLOCK =
      Pattern.compile("-----BEGIN PUBLIC KEY-----(.*?)-----END PUBLIC KEY-----", Pattern.DOTALL);

  private enum Kind { SECRET, PEM, JWKS }

  /** One key file, its last stamp and the keys it gave. */
  private static final class Source {
    final Kind kind;
    final Path path;
    Object stamp;
    List<JwsKey> keys;

    Source(Kind kind, Path path) {
      this.kind = kind;
      this.path = path;
    }
  }

  private final String algorithm;
  private final List<Source> sources = new ArrayList<>();
  private final List<JwsKey> fixed = new ArrayList<>(); // from the environment: not reloaded
  private volatile KeySet current;

  /** @throws ConfigException naming the setting at fault when no key can be read */
  KeyFiles(AuthConfig config, Map<String, String> env) {
    this.algorithm = config.algorithm();
    if (!AuthConfig.ALGORITHMS.contains(algorithm)) {
      throw new ConfigException("invalid configuration: auth.algorithm = '" + algorithm + "'; accepted values: "
          + String.join(", ", AuthConfig.ALGORITHMS));
    }
    if (algorithm.equals("HS256")) {
      if (!config.hmacSecretFile().isEmpty()) {
        sources.add(new Source(Kind.SECRET, Path.of(config.hmacSecretFile())));
      } else {
        String name = config.hmacSecretEnv();
        String value = name.isEmpty() ? null : env.get(name);
        if (value == null || value.isEmpty()) {
          throw new ConfigException("auth.algorithm = HS256 needs a secret: set auth.hmacSecretFile (AUTH_HMAC_SECRET_FILE)"
              + (name.isEmpty() ? " or auth.hmacSecretEnv" : " or the environment variable " + name));
        }
        fixed.add(hmac(value.getBytes(StandardCharsets.UTF_8), "environment variable " + name));
      }
    } else {
      if (!config.publicKeyFile().isEmpty()) {
        sources.add(new Source(Kind.PEM, Path.of(config.publicKeyFile())));
      }
      if (!config.jwksFile().isEmpty()) {
        sources.add(new Source(Kind.JWKS, Path.of(config.jwksFile())));
      }
      if (sources.isEmpty()) {
        throw new ConfigException("auth.algorithm = " + algorithm + " needs auth.publicKeyFile (AUTH_PUBLIC_KEY_FILE)"
            + " or auth.jwksFile (AUTH_JWKS_FILE)");
      }
    }
    for (Source s : sources) {
      try {
        s.stamp = stamp(s.path);
        s.keys = read(s);
      } catch (IOException | IllegalArgumentException e) {
        throw new ConfigException("cannot load the " + describe(s.kind) + " " + s.path + ": " + message(e));
      }
    }
    current = build();
  }

  KeySet current() {
    return current;
  }

  /**
   * Reads again every key file whose stamp changed and swaps the key set when one did.
   *
   * @return whether the key set changed
   */
  synchronized boolean reloadIfChanged() {
    boolean changed = false;
    for (Source s : sources) {
      Object stamp;
      try {
        stamp = stamp(s.path);
      } catch (IOException e) {
        stamp = "missing";
      }
      if (Objects.equals(stamp, s.stamp)) {
        continue;
      }
      s.stamp = stamp; // a broken file is reported once, not at every check
      try {
        List<JwsKey> keys = read(s);
        s.keys = keys;
        changed = true;
        LOG.info("event=auth_keys_reloaded file={} keys={}", s.path, keys.size());
      } catch (IOException | RuntimeException e) {
        LOG.warn("event=auth_keys_reload_failed file={} error=\"{}\" action=\"the previous keys stay\"", s.path, message(e));
      }
    }
    if (changed) {
      current = build();
    }
    return changed;
  }

  private KeySet build() {
    List<JwsKey> all = new ArrayList<>(fixed);
    for (Source s : sources) {
      all.addAll(s.keys);
    }
    return KeySet.of(all);
  }

  private List<JwsKey> read(Source s) throws IOException {
    byte[] bytes = Files.readAllBytes(s.path);
    return switch (s.kind) {
      case SECRET -> List.of(hmac(trimNewline(bytes), "file " + s.path));
      case PEM -> pem(new String(bytes, StandardCharsets.US_ASCII));
      case JWKS -> jwks(new String(bytes, StandardCharsets.UTF_8));
    };
  }

  private JwsKey hmac(byte[] secret, String where) {
    if (secret.length < MIN_HMAC_SECRET_BYTES) {
      throw new ConfigException("the HS256 secret in the " + where + " is " + secret.length + " bytes; at least "
          + MIN_HMAC_SECRET_BYTES + " are required (RFC 7518 3.2)");
    }
    try {
      return JwsKey.hmac(algorithm, secret);
    } finally {
      Arrays.fill(secret, (byte) 0);
    }
  }

  private List<JwsKey> pem(String text) {
    List<JwsKey> keys = new ArrayList<>();
    Matcher m = PEM_BLOCK.matcher(text);
    while (m.find()) {
      try {
        keys.add(JwsKey.pem(algorithm, m.group()));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("public key " + (keys.size() + 1) + " is not an " + algorithm + " key: " + e.getMessage());
      }
    }
    if (keys.isEmpty()) {
      throw new IllegalArgumentException("no -----BEGIN PUBLIC KEY----- block (an X.509 SubjectPublicKeyInfo PEM)");
    }
    return keys;
  }

  /** Keys of the JWKS usable for signatures of the algorithm; others ({@code use: enc}, other algorithms or types) are skipped. */
  private List<JwsKey> jwks(String text) {
    JsonArray array;
    try {
      array = new JsonObject(text).getJsonArray("keys");
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("not a JWKS (a JSON object with a keys array)");
    }
    if (array == null) {
      throw new IllegalArgumentException("not a JWKS: no keys array");
    }
    String kty = algorithm.startsWith("RS") ? "RSA" : "EC";
    List<JwsKey> keys = new ArrayList<>();
    for (int i = 0; i < array.size(); i++) {
      if (!(array.getValue(i) instanceof JsonObject jwk)) {
        throw new IllegalArgumentException("keys[" + i + "] is not an object");
      }
      if (!kty.equals(jwk.getValue("kty"))
          || jwk.containsKey("use") && !"sig".equals(jwk.getValue("use"))
          || jwk.containsKey("alg") && !algorithm.equals(jwk.getValue("alg"))) {
        continue;
      }
      try {
        keys.add(JwsKey.jwk(algorithm, jwk));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("keys[" + i + "]: " + e.getMessage());
      }
    }
    if (keys.isEmpty()) {
      throw new IllegalArgumentException("no " + kty + " key for " + algorithm + " in the JWKS");
    }
    return keys;
  }

  private static byte[] trimNewline(byte[] bytes) {
    int n = bytes.length;
    while (n > 0 && (bytes[n - 1] == '\n' || bytes[n - 1] == '\r')) {
      n--;
    }
    byte[] trimmed = Arrays.copyOf(bytes, n);
    Arrays.fill(bytes, (byte) 0);
    return trimmed;
  }

  /** What identifies a version of a file: its modification time, size and (where the file system has one) its identity. */
  private static Object stamp(Path path) throws IOException {
    BasicFileAttributes a = Files.readAttributes(path, BasicFileAttributes.class);
    return List.of(a.lastModifiedTime(), a.size(), String.valueOf(a.fileKey()));
  }

  private static String describe(Kind kind) {
    return switch (kind) {
      case SECRET -> "auth.hmacSecretFile";
      case PEM -> "auth.publicKeyFile";
      case JWKS -> "auth.jwksFile";
    };
  }

  private static String message(Exception e) {
    if (e instanceof java.nio.file.NoSuchFileException) {
      return "no such file";
    }
    if (e instanceof java.nio.file.AccessDeniedException) {
      return "permission denied";
    }
    String m = e.getMessage();
    return (m == null ? e.getClass().getSimpleName() : m).replace('"', '\'');
  }
}
