package io.odinws.tools.loadtest;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.JWTOptions;
import io.vertx.ext.auth.PubSecKeyOptions;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The clients' tokens: one JWT per distinct user, minted with Vert.x's {@link JWTAuth} (the library the
 * server verifies with) before the first connection opens, so that signing costs the run nothing and
 * reconnects reuse their user's token. Only the users of this process's clients are minted.
 */
final class TokenMinter {
    private TokenMinter() {
    }

    /**
     * Tokens indexed by user ({@link AuthOptions#userOf}); entries are null for users no client of
     * {@code [firstClient, firstClient + clients)} needs.
     */
    static String[] mint(AuthOptions auth, int firstClient, int clients) throws IOException {
        Vertx vertx = Vertx.vertx();
        try {
            JWTAuth jwt = JWTAuth.create(vertx, new JWTAuthOptions().addPubSecKey(
                    new PubSecKeyOptions().setAlgorithm(auth.algorithm()).setBuffer(key(auth))));
            JWTOptions opts = new JWTOptions().setAlgorithm(auth.algorithm())
                    .setExpiresInSeconds((int) auth.ttlSeconds());
            if (auth.issuer() != null) opts.setIssuer(auth.issuer());
            if (auth.audience() != null) opts.setAudience(List.of(auth.audience()));
            String[] tokens = new String[auth.users()];
            int n = (int) Math.min(clients, auth.users()); // beyond users clients, users repeat
            for (int i = 0; i < n; i++) {
                int user = auth.userOf(firstClient + i);
                if (tokens[user] == null) {
                    tokens[user] = jwt.generateToken(new JsonObject().put("sub", auth.userPrefix() + user), opts);
                }
            }
            return tokens;
        } finally {
            vertx.close();
        }
    }

    /** HS256: the secret, without the one trailing newline an editor or {@code echo} adds; else the PEM text. */
    static String key(AuthOptions auth) throws IOException {
        String text = Files.readString(Path.of(auth.keyFile()), StandardCharsets.UTF_8);
        if (!auth.algorithm().equals("HS256")) return text;
        if (text.endsWith("\r\n")) return text.substring(0, text.length() - 2);
        return text.endsWith("\n") ? text.substring(0, text.length() - 1) : text;
    }
}
