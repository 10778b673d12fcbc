package io.odinws.tools.loadtest;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A tiny stand-in for odin-ws on 127.0.0.1 (Vert.x): answers subscribe with subscription_ack, heartbeat
 * with pong, reconnect with a reconnect_ack (every channel recovered, but those in {@link #notRecovered}), and lets the test "produce" records that are fanned out as odin-ws envelopes to the sessions
 * subscribed to the channel, with scripted faults. It keeps what it produced (even what it then dropped),
 * so it doubles as the ground truth in place of Kafka.
 *
 * <p>{@code main} runs it standalone (for measuring the client's memory): {@code FakeOdinServer PORT}.
 */
final class FakeOdinServer implements AutoCloseable {
    /** A session and its channels. */
    static final class Session {
        final ServerWebSocket ws;
        final Set<String> channels = ConcurrentHashMap.newKeySet();
        /** The upgrade's Authorization header and token query parameter (null when absent). */
        final String authorization;
        final String queryToken;
        /** Message types in the order the client sent them. */
        final List<String> received = new CopyOnWriteArrayList<>();
        /** The sub of the last auth message's token that was acknowledged; null while anonymous. */
        volatile String subject;

        Session(ServerWebSocket ws, String authorization, String queryToken) {
            this.ws = ws;
            this.authorization = authorization;
            this.queryToken = queryToken;
        }

        /** Subscribed to {@code channel}, by name or by {@code *.CATEGORY}. */
        boolean wants(String channel) {
            return channels.contains(channel) || channels.contains("*" + channel.substring(channel.lastIndexOf('.')));
        }
    }

    private final Vertx vertx = Vertx.vertx();
    private HttpServer server;
    final List<Session> sessions = new CopyOnWriteArrayList<>();
    /** Every session ever opened, closed ones included. */
    final List<Session> sessionsSeen = new CopyOnWriteArrayList<>();
    final AtomicInteger subscribes = new AtomicInteger();
    private volatile long lastAckSentMillis;
    final AtomicInteger heartbeats = new AtomicInteger();
    final AtomicInteger upgrades = new AtomicInteger();
    final AtomicInteger reconnects = new AtomicInteger();
    /** Sessions that ended without a close frame (a reset or a plain TCP close). */
    final AtomicInteger closedWithoutFrame = new AtomicInteger();
    /** Channels a reconnect_ack reports recovered:false. */
    final Set<String> notRecovered = ConcurrentHashMap.newKeySet();
    /** Upgrades beyond this many are refused with 503, like an odin-ws at capacity. */
    volatile int capacity = Integer.MAX_VALUE;
    /** The first this many upgrades are refused with 429 and {@link #rateRetryAfter}, like odin-ws's connection-rate limit. */
    volatile int rateLimitFirst;
    volatile String rateRetryAfter = "2";
    /** When each rate-limited upgrade and each accepted one arrived (System.nanoTime). */
    final List<Long> rateLimitedAt = new CopyOnWriteArrayList<>();
    final List<Long> acceptedAt = new CopyOnWriteArrayList<>();
    private final Map<String, List<long[]>> produced = new ConcurrentHashMap<>();
    /** Owners of the records produced with {@link #producePrivate}, by channel and offset. */
    private final Map<String, Map<Long, String[]>> owners = new ConcurrentHashMap<>();
    /** auth messages whose token's sub is in here are answered with auth_error TOKEN_EXPIRED (no signature check). */
    final Set<String> refusedSubjects = ConcurrentHashMap.newKeySet();

    int start(int port) throws Exception {
        server = vertx.createHttpServer(new HttpServerOptions().setHost("127.0.0.1").setPort(port))
                .requestHandler(req -> {
                    if (!"/ws".equals(req.path())) {
                        req.response().setStatusCode(404).end();
                        return;
                    }
                    int n = upgrades.incrementAndGet();
                    if (n <= rateLimitFirst) {
                        rateLimitedAt.add(System.nanoTime());
                        req.response().setStatusCode(429).putHeader("Retry-After", rateRetryAfter).end("Rate limit exceeded");
                    } else if (n > capacity) {
                        req.response().setStatusCode(503).putHeader("Retry-After", "1").end("Server overloaded");
                    } else {
                        acceptedAt.add(System.nanoTime());
                        String auth = req.getHeader("Authorization");
                        String token = req.getParam("token");
                        req.toWebSocket().onSuccess(ws -> onWebSocket(ws, auth, token));
                    }
                });
        return server.listen().await(10, TimeUnit.SECONDS).actualPort();
    }

    private void onWebSocket(ServerWebSocket ws, String authorization, String queryToken) {
        Session s = new Session(ws, authorization, queryToken);
        sessions.add(s);
        sessionsSeen.add(s);
        ws.closeHandler(v -> {
            sessions.remove(s);
            Short code = ws.closeStatusCode(); // Vert.x says 1006 when the session ended without a close frame
            if (code == null || code == 1006) closedWithoutFrame.incrementAndGet();
        });
        ws.textMessageHandler(text -> {
            JsonObject m = new JsonObject(text);
            s.received.add(m.getString("type", ""));
            switch (m.getString("type", "")) {
                case "auth" -> {
                    String sub = subjectOf(m.getJsonObject("data").getString("token"));
                    if (refusedSubjects.contains(sub)) {
                        ws.writeTextMessage("{\"type\":\"auth_error\",\"code\":\"TOKEN_EXPIRED\",\"message\":\"Token expired\"}");
                    } else {
                        s.subject = sub;
                        ws.writeTextMessage(new JsonObject().put("type", "auth_ack").put("sub", sub).putNull("expires_at").encode());
                    }
                }
                case "subscribe" -> {
                    JsonArray chs = m.getJsonObject("data").getJsonArray("channels");
                    for (Object c : chs) s.channels.add((String) c);
                    ws.writeTextMessage(new JsonObject().put("type", "subscription_ack").put("subscribed", chs)
                            .put("count", s.channels.size()).encode());
                    subscribes.incrementAndGet();
                    lastAckSentMillis = System.currentTimeMillis();
                }
                case "heartbeat" -> {
                    heartbeats.incrementAndGet();
                    ws.writeTextMessage("{\"type\":\"pong\",\"ts\":" + System.currentTimeMillis() + "}");
                }
                case "reconnect" -> {
                    reconnects.incrementAndGet();
                    ws.writeTextMessage(reconnectAck(m.getJsonObject("data").getJsonObject("last_offset", new JsonObject())));
                }
                default -> ws.writeTextMessage("{\"type\":\"error\",\"code\":\"UNKNOWN_TYPE\",\"message\":\"?\"}");
            }
        });
    }

    /** odin-ws's answer shape: nothing replayed, each channel named in last_offset recovered unless listed in notRecovered. */
    private String reconnectAck(JsonObject lastOffset) {
        JsonObject channels = new JsonObject();
        boolean all = !lastOffset.isEmpty();
        for (String ch : lastOffset.fieldNames()) {
            boolean ok = !notRecovered.contains(ch);
            all &= ok;
            channels.put(ch, new JsonObject().put("recovered", ok).put("replayed", 0));
        }
        return new JsonObject().put("type", "reconnect_ack").put("status", "completed").put("messages_replayed", 0)
                .put("message", "Replayed 0 missed messages").put("recovered", all).put("channels", channels).encode();
    }

    /** Records that (channel, offset) was produced now, and returns the envelope odin-ws would send for it. */
    String produce(String channel, int partition, long offset) {
        long now = System.currentTimeMillis();
        produced.computeIfAbsent(channel, k -> new CopyOnWriteArrayList<>()).add(new long[] {offset, now});
        // a realistic value: nested payload with its own "timestamp" and a string mentioning "seq"
        String value = "{\"type\":\"COMMENT_POSTED\",\"data\":{\"commentId\":\"c1\",\"author\":\"a\\\"b\","
                + "\"content\":\"seq\\\":1, \\\"ts\\\":2 {]\",\"timestamp\":1},\"timestamp\":" + now + "}";
        return "{\"seq\":" + offset + ",\"ts\":" + now + ",\"type\":\"price:update\",\"priority\":1,\"channel\":\""
                + channel + "\",\"pos\":\"" + partition + ":" + offset + "\",\"data\":" + value + "}";
    }

    /** The {@code sub} claim of a JWT, read without checking its signature. */
    static String subjectOf(String jwt) {
        String payload = jwt.split("\\.")[1];
        return new JsonObject(new String(java.util.Base64.getUrlDecoder().decode(payload), java.nio.charset.StandardCharsets.UTF_8))
                .getString("sub");
    }

    /** Sends a frame to every session subscribed to {@code channel} (by name or {@code *.CATEGORY}). */
    void send(String channel, String frame) {
        for (Session s : sessions) if (s.wants(channel)) s.ws.writeTextMessage(frame);
    }

    /** Records a private record of these owners, and returns its envelope (sent to whom the test decides). */
    String producePrivate(String channel, int partition, long offset, String... recordOwners) {
        owners.computeIfAbsent(channel, k -> new ConcurrentHashMap<>()).put(offset, recordOwners);
        return produce(channel, partition, offset);
    }

    /** Produces and sends in one step. */
    void publish(String channel, int partition, long offset) {
        send(channel, produce(channel, partition, offset));
    }

    /** Wall-clock time the last subscription_ack was written. */
    long lastAckSentMillis() {
        return lastAckSentMillis;
    }

    int subscribedSessions() {
        int n = 0;
        for (Session s : sessions) if (!s.channels.isEmpty()) n++;
        return n;
    }

    /** The records produced so far, as the loss check's ground truth. */
    GroundTruth truth() {
        return new GroundTruth() {
            @Override
            public void start(Collection<String> channels) {
            }

            @Override
            public Map<String, ChannelRecords> collect(long runEndMillis) {
                Map<String, ChannelRecords> out = new HashMap<>();
                produced.forEach((ch, list) -> {
                    List<long[]> copy = new ArrayList<>(list);
                    long[] offsets = new long[copy.size()];
                    long[] ts = new long[copy.size()];
                    for (int i = 0; i < copy.size(); i++) {
                        offsets[i] = copy.get(i)[0];
                        ts[i] = copy.get(i)[1];
                    }
                    Map<Long, String[]> own = owners.get(ch);
                    String[][] o = null;
                    if (own != null) {
                        o = new String[offsets.length][];
                        for (int i = 0; i < offsets.length; i++) o[i] = own.getOrDefault(offsets[i], new String[0]);
                    }
                    out.put(ch, new ChannelRecords(offsets, ts, o));
                });
                return out;
            }

            @Override
            public void close() {
            }
        };
    }

    @Override
    public void close() throws Exception {
        vertx.close().await(10, TimeUnit.SECONDS);
    }

    /** Standalone: {@code FakeOdinServer PORT [RATE_PER_S CHANNEL..]} runs until killed. */
    public static void main(String[] args) throws Exception {
        FakeOdinServer s = new FakeOdinServer();
        int port = s.start(Integer.parseInt(args[0]));
        System.out.println("fake odin-ws on 127.0.0.1:" + port);
        if (args.length > 2) {
            int rate = Integer.parseInt(args[1]);
            List<String> channels = Arrays.asList(args).subList(2, args.length);
            long offset = 0;
            while (true) {
                for (String c : channels) s.publish(c, 0, offset);
                offset++;
                Thread.sleep(Math.max(1, 1000 / rate)); // the publishing rate asked for on the command line
            }
        }
        Thread.currentThread().join();
    }
}
