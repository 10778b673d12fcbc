package io.odinws.tools.loadtest;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * How the load generator's clients authenticate (issue 15): each client presents a JWT for the user
 * {@code userPrefix + (globalIndex mod users)}, minted once per user by {@link ClientTokens}.
 *
 * @param algorithm       HS256, RS256 or ES256
 * @param keyFile         HS256: the secret (the file's bytes, one trailing newline removed); RS256/ES256: the PKCS#8 PEM
 *                        private key
 * @param present         where the token goes: the {@code Authorization: Bearer} upgrade header, an {@code auth}
 *                        message right after the upgrade (the client subscribes after its {@code auth_ack}), or the
 *                        {@code token} query parameter of the upgrade URL
 * @param users           distinct users; client i is user {@code i mod users}
 * @param userPrefix      the {@code sub} of user u is {@code userPrefix + u}
 * @param issuer          {@code iss} claim; null = none
 * @param audience        {@code aud} claim; null = none
 * @param ttlSeconds      token lifetime ({@code exp = now + ttl}); long enough for the run
 * @param privateOwners   category to the JSON pointers naming a record's owners: records of these categories are
 *                        expected only by their owners' clients (loss), and any delivered to another client is a leak
 */
public record AuthOptions(String algorithm, String keyFile, Present present, int users, String userPrefix,
                          String issuer, String audience, long ttlSeconds, Map<String, List<String>> privateOwners) {

    /** Where the token is presented. */
    public enum Present { HEADER, MESSAGE, QUERY }

    public static final List<String> ALGORITHMS = List.of("HS256", "RS256", "ES256");
    public static final List<String> DEFAULT_OWNER_POINTERS = List.of("/data/user", "/data/from", "/data/to");
    public static final String DEFAULT_USER_PREFIX = "user-";
    public static final int MAX_USERS = LoadTestOptions.MAX_CONNECTIONS;
    private static final Pattern PREFIX = Pattern.compile("[A-Za-z0-9_.:@-]{0,64}");
    private static final Pattern POINTER = Pattern.compile("(/[^/\\s]+)+");

    public AuthOptions {
        if (algorithm == null || !ALGORITHMS.contains(algorithm)) {
            throw new IllegalArgumentException("--auth-alg must be one of " + ALGORITHMS + ", got '" + algorithm + "'");
        }
        if (keyFile == null) {
            throw new IllegalArgumentException(algorithm.equals("HS256") ? "HS256 needs --auth-secret-file FILE"
                    : algorithm + " needs --auth-private-key FILE.pem");
        }
        if (!Files.isRegularFile(Path.of(keyFile)) || !Files.isReadable(Path.of(keyFile))) {
            throw new IllegalArgumentException("auth key file not found or not readable: " + keyFile);
        }
        if (present == null) throw new IllegalArgumentException("--auth-present must be header, message or query");
        if (users < 1 || users > MAX_USERS) throw new IllegalArgumentException("--auth-users must be 1.." + MAX_USERS + ", got " + users);
        if (userPrefix == null || !PREFIX.matcher(userPrefix).matches()) {
            throw new IllegalArgumentException("--auth-user-prefix must be 0-64 of [A-Za-z0-9_.:@-], got '" + userPrefix + "'");
        }
        if (ttlSeconds < 60 || ttlSeconds > 7L * 86_400) {
            throw new IllegalArgumentException("--auth-ttl must be 60..604800 seconds, got " + ttlSeconds);
        }
        if (privateOwners == null) privateOwners = Map.of();
        Map<String, List<String>> copy = new LinkedHashMap<>();
        for (var e : privateOwners.entrySet()) {
            if (e.getValue().isEmpty()) throw new IllegalArgumentException("--owner-pointers: no pointer for category " + e.getKey());
            for (String p : e.getValue()) {
                if (!POINTER.matcher(p).matches()) {
                    throw new IllegalArgumentException("--owner-pointers entries must be JSON pointers like /data/user, got '" + p + "'");
                }
            }
            copy.put(e.getKey(), List.copyOf(e.getValue()));
        }
        privateOwners = Collections.unmodifiableMap(copy);
    }

    /** {@code header}, {@code message} or {@code query}. */
    static Present present(String value) {
        try {
            return Present.valueOf(value.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--auth-present must be header, message or query, got '" + value + "'");
        }
    }

    /** The {@code sub} of the client with this global index. */
    String subjectOf(int globalIndex) {
        return userPrefix + userOf(globalIndex);
    }

    int userOf(int globalIndex) {
        return Math.floorMod(globalIndex, users);
    }

    /** True when records of this category go to their owners only. */
    boolean isPrivate(String category) {
        return privateOwners.containsKey(category);
    }

    /** The command-line arguments that parse back into these settings (for child processes). */
    List<String> toArgs() {
        List<String> a = new java.util.ArrayList<>(List.of(algorithm.equals("HS256") ? "--auth-secret-file" : "--auth-private-key",
                keyFile, "--auth-alg", algorithm, "--auth-present", present.name().toLowerCase(Locale.ROOT),
                "--auth-users", "" + users, "--auth-user-prefix", userPrefix, "--auth-ttl", "" + ttlSeconds));
        if (issuer != null) a.addAll(List.of("--auth-issuer", issuer));
        if (audience != null) a.addAll(List.of("--auth-audience", audience));
        if (privateOwners.isEmpty()) {
            a.addAll(List.of("--private-categories", "none"));
        } else {
            a.addAll(List.of("--private-categories", String.join(",", privateOwners.keySet())));
            a.addAll(List.of("--owner-pointers", String.join(",", privateOwners.values().iterator().next())));
        }
        return a;
    }
}
