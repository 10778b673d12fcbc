package io.odinws.tools.loadtest;

import io.odinws.tools.token.TokenMinter;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.Key;

/**
 * The clients' tokens: one JWT per distinct user, minted by {@link TokenMinter} (the same minting as
 * {@code odin-ws token}) before the first connection opens, so that signing costs the run nothing and
 * reconnects reuse their user's token. Only the users of this process's clients are minted.
 */
final class ClientTokens {
    private ClientTokens() {
    }

    /**
     * Tokens indexed by user ({@link AuthOptions#userOf}); entries are null for users no client of
     * {@code [firstClient, firstClient + clients)} needs.
     */
    static String[] mint(AuthOptions auth, int firstClient, int clients) throws IOException {
        Key key = key(auth);
        long now = System.currentTimeMillis() / 1000;
        String[] tokens = new String[auth.users()];
        int n = (int) Math.min(clients, auth.users()); // beyond users clients, users repeat
        for (int i = 0; i < n; i++) {
            int user = auth.userOf(firstClient + i);
            if (tokens[user] == null) {
                tokens[user] = TokenMinter.mint(auth.algorithm(), key, null,
                        TokenMinter.claims(auth.userPrefix() + user, auth.ttlSeconds(), null, auth.issuer(), auth.audience(), now));
            }
        }
        return tokens;
    }

    /** HS256: the secret, without the one trailing newline an editor or {@code echo} adds; else the PKCS#8 PEM's key. */
    static Key key(AuthOptions auth) throws IOException {
        String text = Files.readString(Path.of(auth.keyFile()), StandardCharsets.UTF_8);
        if (!auth.algorithm().equals("HS256")) {
            return TokenMinter.privateKey(text, auth.algorithm());
        }
        if (text.endsWith("\r\n")) {
            text = text.substring(0, text.length() - 2);
        } else if (text.endsWith("\n")) {
            text = text.substring(0, text.length() - 1);
        }
        return TokenMinter.hmacKey(text.getBytes(StandardCharsets.UTF_8));
    }
}
