package io.odinws.tools.loadtest;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The nchan publisher against a stand-in for nchan's publisher endpoint (a Vert.x HTTP server answering 201,
 * 202 or 500 by channel): what it counts, the order the POSTs arrive in, and the one connection they share.
 * The real nchan is in NchanIntegrationTest, where bench/nchan is set up.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class NchanPublisherTest {
    private static final long GENEROUS = TimeUnit.SECONDS.toNanos(60);

    private Vertx vertx;
    private int port;
    private final List<String> received = Collections.synchronizedList(new ArrayList<>());
    private final Set<Integer> clientPorts = Collections.synchronizedSet(new HashSet<>());

    @BeforeEach
    void startStandIn() throws Exception {
        vertx = Vertx.vertx();
        HttpServer server = vertx.createHttpServer().requestHandler(req -> req.body().onSuccess(body -> {
            clientPorts.add(req.connection().remoteAddress().port());
            received.add(req.method() + " " + req.path() + " seq=" + new JsonObject(body).getLong("seq")
                    + " " + req.getHeader("Content-Type"));
            int status = switch (req.path()) {
                case "/pub/A.x" -> 201; // delivered to subscribers
                case "/pub/B.x" -> 202; // no subscriber
                default -> 500;
            };
            req.response().setStatusCode(status).end("queued messages: 1\r\n");
        }));
        port = server.listen(0, "127.0.0.1").await(10, TimeUnit.SECONDS).actualPort();
    }

    @AfterEach
    void stop() throws Exception {
        vertx.close().await(10, TimeUnit.SECONDS);
    }

    @Test
    void countsEachAnswerAndKeepsThePublishingOrderOnOneConnection() throws Exception {
        List<String> channels = List.of("A.x", "B.x", "C.x");
        NchanPublisher p = new NchanPublisher(URI.create("http://127.0.0.1:" + port), channels, 1000, 30);
        p.run(System.nanoTime() + GENEROUS);
        JsonObject s = p.summary();
        assertEquals(30L, s.getLong("sent"), s.encodePrettily());
        assertEquals(10L, s.getLong("delivered_201"), s.encodePrettily());
        assertEquals(10L, s.getLong("no_subscriber_202"), s.encodePrettily());
        assertEquals(10L, s.getLong("failed"), s.encodePrettily());
        assertEquals(new JsonObject().put("http_500", 10L), s.getJsonObject("errors"));
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            expected.add("POST /pub/" + channels.get(i % 3) + " seq=" + (i / 3 + 1) + " application/json");
        }
        assertEquals(expected, received, "round-robin over the channels, seq per channel, in publishing order");
        assertEquals(1, clientPorts.size(), "one keep-alive connection: " + clientPorts);
    }

    /** A peer that answers nothing until it has all the requests: only a pipelining client gets its answers. */
    @Test
    void postsArePipelinedWithoutWaitingForTheAnswers() throws Exception {
        int n = 20;
        try (ServerSocket listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            Thread peer = new Thread(() -> {
                try (Socket s = listener.accept()) {
                    InputStream in = s.getInputStream();
                    String seen = "";
                    byte[] buf = new byte[64 * 1024];
                    while (seen.split("POST /pub/", -1).length - 1 < n) {
                        int r = in.read(buf);
                        if (r < 0) return;
                        seen += new String(buf, 0, r, StandardCharsets.ISO_8859_1);
                    }
                    s.getOutputStream().write("HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n".repeat(n)
                            .getBytes(StandardCharsets.ISO_8859_1));
                    while (in.read(buf) >= 0) {
                        // until the publisher closes the connection
                    }
                } catch (IOException e) {
                    // the test's assertions tell
                }
            }, "pipelining-peer");
            peer.start();
            NchanPublisher p = new NchanPublisher(URI.create("http://127.0.0.1:" + listener.getLocalPort()), List.of("A.x"), 1000, n);
            p.drainMillis(5_000);
            p.run(System.nanoTime() + TimeUnit.SECONDS.toNanos(20));
            JsonObject s = p.summary();
            assertEquals((long) n, s.getLong("delivered_201"), s.encodePrettily());
            assertEquals(0L, s.getLong("failed"), s.encodePrettily());
            peer.join(10_000);
        }
    }

    @Test
    void aRefusedConnectionCountsEveryPostAsFailed() throws Exception {
        int closed;
        try (ServerSocket s = new ServerSocket(0)) {
            closed = s.getLocalPort();
        }
        NchanPublisher p = new NchanPublisher(URI.create("http://127.0.0.1:" + closed), List.of("A.x"), 1000, 5);
        p.run(System.nanoTime() + GENEROUS);
        JsonObject s = p.summary();
        assertEquals(5L, s.getLong("sent"), s.encodePrettily());
        assertEquals(5L, s.getLong("failed"), s.encodePrettily());
        assertEquals(new JsonObject().put("connect_refused", 5L), s.getJsonObject("errors"));
    }
}
