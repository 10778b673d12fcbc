package io.odinws.tools.loadtest;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.core.json.pointer.JsonPointer;
import io.vertx.ext.auth.PubSecKeyOptions;
import io.vertx.ext.auth.User;
import io.vertx.ext.auth.authentication.TokenCredentials;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The load generator's authentication side (issue 15): options, minting, private channels, private loss and leaks. */
class AuthLoadTestTest {
    @TempDir
    Path dir;

    private Path secret(String text) throws Exception {
        Path f = dir.resolve("secret");
        Files.writeString(f, text);
        return f;
    }

    private static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
                .encodeToString(der) + "\n-----END " + type + "-----\n";
    }

    /** A key pair as the bench makes it with openssl: PKCS#8 private key, SubjectPublicKeyInfo public key. */
    private KeyPair keys(String alg) throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance(alg.equals("RS256") ? "RSA" : "EC");
        if (alg.equals("RS256")) g.initialize(2048);
        else g.initialize(new ECGenParameterSpec("secp256r1"));
        KeyPair kp = g.generateKeyPair();
        Files.writeString(dir.resolve(alg + ".pem"), pem("PRIVATE KEY", kp.getPrivate().getEncoded()));
        return kp;
    }

    @Test
    void authOptionsParseWithDefaultsAndRoundTrip() throws Exception {
        Path s = secret("s3cret-s3cret-s3cret-s3cret-32by\n");
        LoadTestOptions o = LoadTestOptions.parse(new String[] {"--connections", "50", "--auth-secret-file", s.toString(),
                "--private-channels", "*.balances,BTC.balances"});
        AuthOptions a = o.auth();
        assertEquals("HS256", a.algorithm());
        assertEquals(AuthOptions.Present.MESSAGE, a.present(), "message is the default: the browsers' way");
        assertEquals(50, a.users(), "one user per connection by default");
        assertEquals("user-", a.userPrefix());
        assertEquals(Map.of("balances", List.of("/data/user", "/data/from", "/data/to")), a.privateOwners());
        assertEquals(60 + 3600, a.ttlSeconds());
        assertEquals("user-7", a.subjectOf(57));
        assertEquals(List.of("*.balances", "BTC.balances"), o.privateChannels());
        // a child process gets the same settings
        LoadTestOptions again = LoadTestOptions.parse(o.toArgs().toArray(new String[0]));
        assertEquals(a, again.auth());
        assertEquals(o.privateChannels(), again.privateChannels());

        keys("RS256");
        AuthOptions r = LoadTestOptions.parse(new String[] {"--auth-private-key", dir.resolve("RS256.pem").toString(),
                "--auth-present", "header", "--auth-users", "3", "--auth-user-prefix", "u", "--auth-issuer", "odin",
                "--auth-audience", "ws", "--private-categories", "none"}).auth();
        assertEquals("RS256", r.algorithm(), "a private key without --auth-alg is RS256");
        assertEquals(AuthOptions.Present.HEADER, r.present());
        assertEquals("u2", r.subjectOf(5));
        assertTrue(r.privateOwners().isEmpty());
        assertEquals(r, LoadTestOptions.parse(withUrl(r.toArgs())).auth());
        assertNull(LoadTestOptions.parse(new String[0]).auth(), "no key, no token");
    }

    private static String[] withUrl(List<String> args) {
        return args.toArray(new String[0]);
    }

    @Test
    void authOptionsRejectWhatCannotWork() throws Exception {
        Path s = secret("x");
        rejects("--auth-secret-file", () -> LoadTestOptions.parse(new String[] {"--auth-users", "5"}));
        rejects("--auth-alg", () -> LoadTestOptions.parse(new String[] {"--auth-secret-file", s.toString(), "--auth-alg", "RS256"}));
        rejects("--auth-alg", () -> LoadTestOptions.parse(new String[] {"--auth-secret-file", s.toString(), "--auth-alg", "none"}));
        rejects("--auth-present", () -> LoadTestOptions.parse(new String[] {"--auth-secret-file", s.toString(), "--auth-present", "cookie"}));
        rejects("not found", () -> LoadTestOptions.parse(new String[] {"--auth-secret-file", dir.resolve("nope").toString()}));
        rejects("--auth-users", () -> LoadTestOptions.parse(new String[] {"--auth-secret-file", s.toString(), "--auth-users", "0"}));
        rejects("exclusive", () -> LoadTestOptions.parse(new String[] {"--auth-secret-file", s.toString(), "--auth-private-key", s.toString()}));
        rejects("--owner-pointers", () -> LoadTestOptions.parse(new String[] {"--auth-secret-file", s.toString(), "--owner-pointers", "data.user"}));
        rejects("--private-channels", () -> LoadTestOptions.parse(new String[] {"--private-channels", "*.bal ances"}));
        rejects("--private-channels", () -> LoadTestOptions.parse(new String[] {"--private-channels", "*.balances,*.balances"}));
    }

    private static void rejects(String fragment, org.junit.jupiter.api.function.Executable e) {
        IllegalArgumentException x = assertThrows(IllegalArgumentException.class, e);
        assertTrue(x.getMessage().contains(fragment), x.getMessage());
    }

    @Test
    void mintsOneVerifiableTokenPerUserForEachAlgorithm() throws Exception {
        Path s = secret("a-secret-of-at-least-32-bytes-long!\n");
        Vertx vertx = Vertx.vertx();
        try {
            for (String alg : List.of("HS256", "RS256", "ES256")) {
                PubSecKeyOptions verifyKey;
                String keyFile;
                if (alg.equals("HS256")) {
                    keyFile = s.toString();
                    // the trailing newline is not part of the secret
                    verifyKey = new PubSecKeyOptions().setAlgorithm(alg).setBuffer("a-secret-of-at-least-32-bytes-long!");
                } else {
                    KeyPair kp = keys(alg);
                    keyFile = dir.resolve(alg + ".pem").toString();
                    verifyKey = new PubSecKeyOptions().setAlgorithm(alg).setBuffer(pem("PUBLIC KEY", kp.getPublic().getEncoded()));
                }
                AuthOptions a = new AuthOptions(alg, keyFile, AuthOptions.Present.MESSAGE, 4, "user-", "iss-1", "aud-1", 600, Map.of());
                // clients 10..19 of a process: users 2,3,0,1,2,.. -> every user, each minted once
                String[] tokens = ClientTokens.mint(a, 10, 10);
                assertEquals(4, tokens.length);
                JWTAuth verifier = JWTAuth.create(vertx, new JWTAuthOptions().addPubSecKey(verifyKey)
                        .setJWTOptions(new io.vertx.ext.auth.JWTOptions().setIssuer("iss-1").setAudience(List.of("aud-1"))));
                for (int u = 0; u < 4; u++) {
                    assertNotNull(tokens[u], alg + " user " + u);
                    User user = verifier.authenticate(new TokenCredentials(tokens[u])).await(10, TimeUnit.SECONDS);
                    assertEquals("user-" + u, user.principal().getString("sub"), alg);
                    JsonObject claims = new JsonObject(new String(Base64.getUrlDecoder().decode(tokens[u].split("\\.")[1]),
                            StandardCharsets.UTF_8));
                    long exp = claims.getLong("exp");
                    long now = System.currentTimeMillis() / 1000;
                    assertTrue(exp > now + 500 && exp <= now + 601, alg + " exp " + exp);
                    String header = new String(Base64.getUrlDecoder().decode(tokens[u].split("\\.")[0]), StandardCharsets.UTF_8);
                    assertEquals(alg, new JsonObject(header).getString("alg"));
                }
            }
            // a process whose clients need only some users mints only those
            AuthOptions many = new AuthOptions("HS256", s.toString(), AuthOptions.Present.HEADER, 1000, "user-", null, null, 600, Map.of());
            String[] some = ClientTokens.mint(many, 100, 3);
            assertNotNull(some[100]);
            assertNotNull(some[102]);
            assertNull(some[0]);
            assertNull(some[103]);
        } finally {
            vertx.close().await(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void queryTokenIsAddedToTheUpgradeUrl() {
        assertEquals("ws://127.0.0.1:1/ws?token=a.b.c", LoadRunner.withToken(URI.create("ws://127.0.0.1:1/ws"), "a.b.c").toString());
        assertEquals("ws://127.0.0.1:1/ws?x=1&token=a.b.c", LoadRunner.withToken(URI.create("ws://127.0.0.1:1/ws?x=1"), "a.b.c").toString());
    }

    @Test
    void subscribeOnTheUpgradeIsAddedToTheUrlAndNeedsTheTokenOnTheUpgrade(@TempDir Path dir) throws Exception {
        assertEquals("ws://127.0.0.1:1/ws?subscribe=BTC.trade,ETH.*",
                LoadRunner.withSubscribe(URI.create("ws://127.0.0.1:1/ws"), List.of("BTC.trade", "ETH.*")).toString());
        assertEquals("ws://127.0.0.1:1/ws?x=1&subscribe=BTC.trade",
                LoadRunner.withSubscribe(URI.create("ws://127.0.0.1:1/ws?x=1"), List.of("BTC.trade")).toString());
        LoadTestOptions o = LoadTestOptions.parse(new String[] {"--connections", "10", "--subscribe-on-upgrade"});
        assertTrue(o.subscribeOnUpgrade());
        assertTrue(o.toArgs().contains("--subscribe-on-upgrade"), "child processes subscribe so too");
        assertEquals(o, LoadTestOptions.parse(o.toArgs().toArray(new String[0])));
        Path s = Files.write(dir.resolve("secret"), new byte[32]);
        rejects("--auth-present", () -> LoadTestOptions.parse(new String[] {"--subscribe-on-upgrade", "--auth-secret-file", s.toString(),
                "--auth-present", "message"}));
        rejects("--protocol odin", () -> LoadTestOptions.parse(new String[] {"--subscribe-on-upgrade", "--protocol", "nchan"}));
    }

    @Test
    void privateChannelsAreAddedToEveryClientAndSentAsGiven() {
        List<String> publicChannels = List.of("BTC.trade", "ETH.trade", "BTC.balances");
        LoadTestOptions.Subscribe single = new LoadTestOptions.Subscribe(LoadTestOptions.Subscribe.Kind.SINGLE, 1);
        ChannelPlan plan = new ChannelPlan(publicChannels, List.of("*.balances"), single, 0, 0, 1);
        // BTC.balances is in the list already; ETH.balances is appended
        assertEquals(4, plan.table.size());
        assertEquals("ETH.balances", plan.table.name(3));
        assertArrayEquals(new int[] {1, 2, 3}, plan.channelsOf(1), "draw ETH.trade + both balances channels");
        assertArrayEquals(new int[] {2, 3}, plan.channelsOf(2), "the draw BTC.balances is counted once");
        assertEquals(List.of("ETH.trade", "*.balances"), plan.subscriptionOf(1));
        assertEquals(List.of("BTC.trade", "ETH.trade", "BTC.balances", "ETH.balances").subList(0, 1),
                plan.subscriptionOf(0).subList(0, 1));
        ChannelPlan none = new ChannelPlan(publicChannels, single, 0, 1);
        assertArrayEquals(new int[] {1}, none.channelsOf(1));
        assertSame(3, none.table.size());
    }

    @Test
    void ownersAreReadAtThePointers() {
        List<JsonPointer> p = AuthOptions.DEFAULT_OWNER_POINTERS.stream().map(JsonPointer::from).toList();
        assertArrayEquals(new String[] {"user-1"}, KafkaGroundTruth.owners(
                "{\"type\":\"BALANCE_UPDATED\",\"data\":{\"user\":\"user-1\",\"balance\":\"1\"}}".getBytes(StandardCharsets.UTF_8), p));
        assertArrayEquals(new String[] {"user-1", "user-2"}, KafkaGroundTruth.owners(
                "{\"data\":{\"from\":\"user-1\",\"to\":\"user-2\",\"amount\":\"3\"}}".getBytes(StandardCharsets.UTF_8), p));
        assertArrayEquals(new String[] {"user-1"}, KafkaGroundTruth.owners(
                "{\"data\":{\"from\":\"user-1\",\"to\":\"user-1\"}}".getBytes(StandardCharsets.UTF_8), p), "distinct");
        assertArrayEquals(new String[0], KafkaGroundTruth.owners("{\"data\":{\"user\":7}}".getBytes(StandardCharsets.UTF_8), p),
                "only strings name owners");
        assertArrayEquals(new String[0], KafkaGroundTruth.owners("not json".getBytes(StandardCharsets.UTF_8), p));
    }

    @Test
    void privateRecordsAreExpectedByTheirOwnersOnlyAndOthersAreLeaks() {
        ChannelTable table = new ChannelTable(List.of("BTC.balances", "BTC.trade"));
        // BTC.balances: offsets 10..15 at 1000..1500 ms; owners: user-0 | user-1 | user-0,user-1 (transfer) | user-2 | none | user-1
        long[] off = {10, 11, 12, 13, 14, 15};
        long[] ts = {1000, 1100, 1200, 1300, 1400, 1500};
        String[][] owners = {{"user-0"}, {"user-1"}, {"user-0", "user-1"}, {"user-2"}, {}, {"user-1"}};
        Map<String, GroundTruth.ChannelRecords> truth = Map.of(
                "BTC.balances", new GroundTruth.ChannelRecords(off, ts, owners),
                "BTC.trade", new GroundTruth.ChannelRecords(new long[] {1, 2}, new long[] {1000, 1200}));
        AuthOptions auth = new AuthOptions("HS256", secretQuietly(), AuthOptions.Present.MESSAGE, 3, "user-", null, null, 600,
                Map.of("balances", AuthOptions.DEFAULT_OWNER_POINTERS));
        // client 0 (user-0): both channels, window [0, 10_000]: expects 10, 12 and both trades; receives them all
        Client c0 = new Client(0, 0, new int[] {0, 1}, false, false, false, true);
        c0.ackMillis = 0;
        for (long o : new long[] {10, 12}) c0.receivedOffset(0, o);
        for (long o : new long[] {1, 2}) c0.receivedOffset(1, o);
        // client 1 (user-1): expects 11, 12, 15; misses 15 and receives 13 (user-2's) and 14 (nobody's): two leaks
        Client c1 = new Client(1, 1, new int[] {0}, false, false, false, true);
        c1.ackMillis = 0;
        for (long o : new long[] {11, 12, 13, 14}) c1.receivedOffset(0, o);
        // client 5 (user-2), slow: not checked for loss, but what it received still counts for leaks: 10 is user-0's
        Client c5 = new Client(2, 5, new int[] {0}, true, false, false, true);
        c5.ackMillis = 0;
        c5.receivedOffset(0, 10);
        LossCalculator.Loss loss = LossCalculator.compute(new Client[] {c0, c1, c5}, table, truth, 10_000, 0, auth);
        assertEquals(2 + 2 + 3, loss.expected());
        assertEquals(2 + 3, loss.privateExpected());
        assertEquals(1, loss.missing());
        assertEquals(1, loss.clientsWithLoss());
        assertEquals(3, loss.leaked());
        assertEquals(2, loss.clientsWithLeaks());

        // without auth the same records are public: every subscriber expects all six, nothing is a leak
        LossCalculator.Loss open = LossCalculator.compute(new Client[] {c0, c1}, table, truth, 10_000, 0, null);
        assertEquals(6 + 2 + 6, open.expected());
        assertEquals(4 + 2, open.missing());
        assertEquals(0, open.leaked());
        assertEquals(0, open.privateExpected());
    }

    private String secretQuietly() {
        try {
            return secret("k").toString();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void reportCarriesAuthCountsAndFailsOnALeak() throws Exception {
        Path s = secret("k");
        LoadTestOptions o = LoadTestOptions.parse(new String[] {"--auth-secret-file", s.toString(), "--kafka", "127.0.0.1:9092"});
        Stats stats = new Stats(o.channels().size());
        stats.authOk.add(3);
        stats.authFailure("TOKEN_EXPIRED");
        LossCalculator.Loss loss = new LossCalculator.Loss(10, 0, 2, 2, 0, 4, 1, 1);
        JsonObject r = Report.build(new Report.Local(o, stats, 0, 1, 0, 0, loss, "kafka"));
        assertEquals(3L, r.getJsonObject("auth").getLong("acks"));
        assertEquals(1L, r.getJsonObject("auth").getLong("failed"));
        assertEquals(1L, r.getJsonObject("auth").getJsonObject("failures_by_code").getLong("TOKEN_EXPIRED"));
        assertEquals(1L, r.getJsonObject("errors").getJsonObject("by_kind").getLong("auth_failed_TOKEN_EXPIRED"));
        assertEquals(1L, r.getJsonObject("loss").getLong("leaked"));
        assertEquals("HS256", r.getJsonObject("config").getJsonObject("auth").getString("algorithm"));
        List<Report.Check> checks = Report.check(o, r);
        assertTrue(checks.stream().anyMatch(c -> !c.ok() && c.message().contains("LEAK")), checks.toString());
        // merged across processes, the counts add up
        JsonObject merged = Report.merge(List.of(r, r.copy()));
        assertEquals(6L, merged.getJsonObject("auth").getLong("acks"));
        assertEquals(2L, merged.getJsonObject("loss").getLong("leaked"));
    }
}
