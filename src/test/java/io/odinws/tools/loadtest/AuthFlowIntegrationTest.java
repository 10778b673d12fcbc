package io.odinws.tools.loadtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.odinws.testkit.Await;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The generator's side of issue 15 against {@link FakeOdinServer} (which reads a token's sub without checking its
 * signature): where the token goes, the auth message before the subscription, auth_error counted, and a private
 * record delivered to a non-owner reported as a leak.
 */
class AuthFlowIntegrationTest {
    @TempDir
    Path dir;
    private FakeOdinServer server;
    private int port;
    private Path secret;
    private final PrintStream out = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
    private final ByteArrayOutputStream errBuf = new ByteArrayOutputStream();
    private final PrintStream err = new PrintStream(errBuf, true, StandardCharsets.UTF_8);

    @BeforeEach
    void start() throws Exception {
        server = new FakeOdinServer();
        port = server.start(0);
        secret = dir.resolve("secret");
        Files.writeString(secret, "0123456789abcdef0123456789abcdef");
    }

    @AfterEach
    void stop() throws Exception {
        server.close();
    }

    private LoadTestOptions options(String... extra) {
        List<String> a = new ArrayList<>(List.of("--url", "ws://127.0.0.1:" + port + "/ws", "--seed", "1", "--heartbeat", "0",
                "--auth-secret-file", secret.toString()));
        a.addAll(List.of(extra));
        return LoadTestOptions.parse(a.toArray(new String[0]));
    }

    private CompletableFuture<LoadTest.Result> runAsync(LoadTestOptions o, GroundTruth truth) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return LoadTest.execute(o, truth, "injected", out, err);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
    }

    @Test
    void authMessageComesFirstAndTheSubscriptionWaitsForItsAnswer() throws Exception {
        server.refusedSubjects.add("user-1");
        LoadTestOptions o = options("--connections", "3", "--duration", "2", "--channels", "A.x", "--auth-users", "2");
        LoadTest.Result result = runAsync(o, null).get(30, TimeUnit.SECONDS);
        JsonObject r = result.report();
        assertEquals(3, server.sessionsSeen.size());
        Set<String> subjects = new HashSet<>();
        for (FakeOdinServer.Session s : server.sessionsSeen) {
            assertEquals(List.of("auth", "subscribe"), s.received.subList(0, 2), "auth first, subscribe after its answer");
            assertNull(s.authorization);
            assertNull(s.queryToken);
            if (s.subject != null) subjects.add(s.subject);
        }
        assertEquals(Set.of("user-0"), subjects, "clients 0 and 2 are user-0; user-1 was refused");
        assertEquals(2L, r.getJsonObject("auth").getLong("acks"), r.encodePrettily());
        assertEquals(1L, r.getJsonObject("auth").getLong("failed"));
        assertEquals(1L, r.getJsonObject("auth").getJsonObject("failures_by_code").getLong("TOKEN_EXPIRED"));
        assertEquals(3L, r.getJsonObject("connections").getLong("subscribed"), "a refused client still subscribes (public channels)");
    }

    @Test
    void headerAndQueryCarryTheTokenOnTheUpgrade() throws Exception {
        for (String where : List.of("header", "query")) {
            server.sessionsSeen.clear();
            LoadTestOptions o = options("--connections", "2", "--duration", "1", "--channels", "A.x", "--auth-present", where);
            LoadTest.Result result = runAsync(o, null).get(30, TimeUnit.SECONDS);
            Set<String> subjects = new HashSet<>();
            for (FakeOdinServer.Session s : server.sessionsSeen) {
                assertEquals("subscribe", s.received.get(0), where + ": no auth message");
                String token = where.equals("header") ? s.authorization.substring("Bearer ".length()) : s.queryToken;
                assertTrue(where.equals("header") ? s.authorization.startsWith("Bearer ") : s.authorization == null, where);
                subjects.add(FakeOdinServer.subjectOf(token));
            }
            assertEquals(Set.of("user-0", "user-1"), subjects, where);
            assertEquals(0L, result.report().getJsonObject("auth").getLong("failed"));
        }
    }

    @Test
    void aPrivateRecordDeliveredToANonOwnerIsALeak() throws Exception {
        // two clients (user-0, user-1) on A.x plus *.balances over the tokens A and B
        LoadTestOptions o = options("--connections", "2", "--duration", "3", "--channels", "A.x,B.x", "--subscribe", "all",
                "--private-channels", "*.balances", "--kafka", "127.0.0.1:9");
        CompletableFuture<LoadTest.Result> run = runAsync(o, server.truth());
        Await.until("2 sessions authenticated and subscribed", Duration.ofSeconds(15),
                () -> server.sessions.stream().filter(s -> s.subject != null && !s.channels.isEmpty()).count() == 2,
                () -> "sessions " + server.sessions.size());
        FakeOdinServer.Session u0 = server.sessions.stream().filter(s -> "user-0".equals(s.subject)).findFirst().orElseThrow();
        FakeOdinServer.Session u1 = server.sessions.stream().filter(s -> "user-1".equals(s.subject)).findFirst().orElseThrow();
        assertTrue(u0.channels.contains("*.balances"), "the wildcard is sent as given: " + u0.channels);
        // a correct delivery, a transfer to both parties, and one record of user-1's sent to user-0 as well: a leak
        u0.ws.writeTextMessage(server.producePrivate("A.balances", 0, 1, "user-0"));
        String transfer = server.producePrivate("B.balances", 1, 5, "user-0", "user-1");
        u0.ws.writeTextMessage(transfer);
        u1.ws.writeTextMessage(transfer);
        String theirs = server.producePrivate("A.balances", 0, 2, "user-1");
        u1.ws.writeTextMessage(theirs);
        u0.ws.writeTextMessage(theirs);
        LoadTest.Result result = run.get(30, TimeUnit.SECONDS);
        JsonObject loss = result.report().getJsonObject("loss");
        assertEquals(1L, loss.getLong("leaked"), result.report().encodePrettily());
        assertEquals(1L, loss.getLong("clients_with_leaks"));
        assertEquals(1, result.exitStatus(), "a leak fails the run");
        assertTrue(errBuf.toString(StandardCharsets.UTF_8).contains("LEAK"), errBuf.toString(StandardCharsets.UTF_8));
        assertFalse(result.report().getJsonObject("messages").getLong("unexpected_channel") > 0,
                "A.balances and B.balances are the client's channels through *.balances");
    }
}
