package io.odinws.tools.loadtest;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.ContinuationWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CorruptedWebSocketFrameException;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PongWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketClientHandshaker;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketHandshakeException;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.FastThreadLocal;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.BindException;
import java.net.ConnectException;

/**
 * One WebSocket session of a {@link Client}: completes the handshake, subscribes, answers pings and
 * close frames, and turns each received text frame into counts and latency samples. No timers: keep-alive
 * and timeouts are driven by the run's single control loop.
 */
final class WsClientHandler extends ChannelInboundHandlerAdapter {
    private static final byte[] SUBSCRIPTION_ACK = FrameScanner.ascii("subscription_ack");
    private static final byte[] POSITIONS = FrameScanner.ascii("\"positions\"");
    private static final byte[] REPLAY = FrameScanner.ascii("replay:message");
    private static final byte[] SKIPPED = FrameScanner.ascii("\"skipped\":");
    private static final byte[] PONG = FrameScanner.ascii("pong");
    private static final byte[] ERROR = FrameScanner.ascii("error");
    private static final byte[] REJECTED = FrameScanner.ascii("\"rejected\"");
    private static final byte[] RECONNECT_ACK = FrameScanner.ascii("reconnect_ack");
    private static final byte[] RECONNECT_ERROR = FrameScanner.ascii("reconnect_error");
    private static final byte[] AUTH_ACK = FrameScanner.ascii("auth_ack");
    private static final byte[] AUTH_ERROR = FrameScanner.ascii("auth_error");
    /** In a reconnect_ack, overall or for one channel: then not everything missed was replayed. */
    private static final byte[] NOT_RECOVERED = FrameScanner.ascii("\"recovered\":false");

    /** Per event-loop thread: the scanner and a buffer to copy frames into (frames are small). */
    private static final FastThreadLocal<FrameScanner> SCANNER = new FastThreadLocal<>() {
        @Override
        protected FrameScanner initialValue() {
            return new FrameScanner();
        }
    };
    private static final FastThreadLocal<byte[][]> SCRATCH = new FastThreadLocal<>() {
        @Override
        protected byte[][] initialValue() {
            return new byte[][] {new byte[4096]};
        }
    };

    private final LoadRunner run;
    private final Client client;
    private final boolean reconnect;
    private WebSocketClientHandshaker handshaker; // dropped once the handshake is done
    private boolean open;
    private boolean subscribedHere;
    private int closeCode = -1;

    /**
     * Loads every kind of WebSocket frame before the first connection. While the text frame is the only kind loaded, C2
     * compiles the read path on that assumption, and the first ping or close frame, which can come well into a run,
     * makes it throw all that code away at once: a stall of interpreting and compiling again on the generator's one
     * core, in the middle of what the run measures.
     */
    static void loadFrameKinds() {
        for (WebSocketFrame f : new WebSocketFrame[] {new PingWebSocketFrame(), new PongWebSocketFrame(), new CloseWebSocketFrame(),
                new ContinuationWebSocketFrame(), new BinaryWebSocketFrame()}) {
            f.release();
        }
    }

    WsClientHandler(LoadRunner run, Client client, WebSocketClientHandshaker handshaker, boolean reconnect) {
        this.run = run;
        this.client = client;
        this.handshaker = handshaker;
        this.reconnect = reconnect;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        handshaker.handshake(ctx.channel());
        ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        try {
            if (msg instanceof TextWebSocketFrame f) {
                onText(ctx, f.content());
            } else if (msg instanceof FullHttpResponse r) {
                onHandshakeResponse(ctx, r);
            } else if (msg instanceof PingWebSocketFrame p) {
                ctx.writeAndFlush(new PongWebSocketFrame(p.content().retain()), ctx.voidPromise());
            } else if (msg instanceof CloseWebSocketFrame c) {
                closeCode = c.statusCode() < 0 ? 1005 : c.statusCode();
                ctx.writeAndFlush(new CloseWebSocketFrame()).addListener(ChannelFutureListener.CLOSE);
            } else if (msg instanceof BinaryWebSocketFrame || msg instanceof ContinuationWebSocketFrame) {
                run.stats.error("binary_or_fragmented_frame");
            }
        } finally {
            ReferenceCountUtil.release(msg);
        }
    }

    private void onHandshakeResponse(ChannelHandlerContext ctx, FullHttpResponse r) {
        if (handshaker == null) return;
        try {
            handshaker.finishHandshake(ctx.channel(), r);
        } catch (WebSocketHandshakeException e) {
            int status = r.status().code();
            run.stats.error("handshake_http_" + status);
            if (status >= 400) {
                run.stats.refused(status);
                client.retryAfterMillis = retryAfterMillis(r.headers().get(HttpHeaderNames.RETRY_AFTER));
            }
            ctx.close();
            return;
        }
        handshaker = null;
        open = true;
        run.onOpen(client, ctx.channel(), reconnect);
        if (run.nchan) subscribed(ctx); // nchan: the subscription is the URL, there is no ack
    }

    private void onText(ChannelHandlerContext ctx, ByteBuf content) {
        Stats stats = run.stats;
        int len = content.readableBytes();
        stats.bytes.add(len);
        byte[][] holder = SCRATCH.get();
        if (holder[0].length < len) holder[0] = new byte[Math.max(len, holder[0].length * 2)];
        byte[] b = holder[0];
        content.getBytes(content.readerIndex(), b, 0, len);
        FrameScanner s = SCANNER.get();
        if (!s.scan(b, 0, len)) {
            stats.unparsable.increment();
            return;
        }
        if (!s.hasSeq()) {
            onControl(ctx, s, b, len);
            return;
        }
        if (client.slow && client.ackMillis >= 0 && run.options.slowReadBytesPerSecond() > 0) {
            slowData(ctx, s, b, len);
            return;
        }
        stats.received.increment();
        int channel = s.channelStart < 0 ? -1 : run.plan.table.indexOf(b, s.channelStart, s.channelEnd);
        int slot = channel < 0 ? -1 : client.slot(channel);
        if (slot < 0) {
            stats.unexpectedChannel.increment();
            return;
        }
        switch (client.order.accept(slot, s.seq)) {
            case SeqTracker.DUPLICATE -> {
                stats.duplicate(channel);
                return; // not a delivery: no latency, no offset
            }
            case SeqTracker.OUT_OF_ORDER -> stats.outOfOrder(channel, false);
            case SeqTracker.BEYOND_WINDOW -> stats.outOfOrder(channel, true);
            default -> {
                if (client.lastPos != null) client.remember(slot, s.posPartition, s.seq);
            }
        }
        if (client.received != null) client.receivedOffset(slot, s.seq);
        if (s.priority == 2 || s.typeIs(REPLAY)) {
            stats.replayed.increment(); // recovered history: its age is not a delivery latency
            return;
        }
        stats.live.increment();
        long now = MicroClock.nowMicros();
        if (s.eventTimestamp != FrameScanner.ABSENT) {
            Stats.record(stats.producerToClient, now - s.eventTimestamp * 1000, stats.clockSkew);
        } else {
            stats.noEventTimestamp.increment();
        }
        if (s.ts != FrameScanner.ABSENT) Stats.record(stats.serverToClient, now - s.ts * 1000, stats.clockSkew);
    }

    /**
     * A data message to a slow client reading at --slow-read-rate: counted apart (not a delivery of the loss and latency
     * figures); then, when it is ahead of its rate, it stops reading until the bytes read are due.
     */
    private void slowData(ChannelHandlerContext ctx, FrameScanner s, byte[] b, int len) {
        Stats stats = run.stats;
        stats.slowReceived.increment();
        stats.slowBytes.add(len);
        int at = indexOf(b, len, SKIPPED);
        if (at >= 0) {
            long n = 0;
            for (int i = at + SKIPPED.length; i < len && b[i] >= '0' && b[i] <= '9'; i++) n = n * 10 + (b[i] - '0');
            stats.slowSkipped.add(n);
        }
        if (s.ts != FrameScanner.ABSENT) stats.slowBehindMillis.add(Math.max(0, System.currentTimeMillis() - s.ts));
        client.slowReadBytes += len;
        long due = client.slowReadStartNanos + client.slowReadBytes * 1_000_000_000L / run.options.slowReadBytesPerSecond();
        long wait = due - System.nanoTime();
        if (wait > 1_000_000 && ctx.channel().config().isAutoRead()) {
            ctx.channel().config().setAutoRead(false);
            ctx.executor().schedule(() -> ctx.channel().config().setAutoRead(true), wait, java.util.concurrent.TimeUnit.NANOSECONDS);
        }
    }

    /** Replies and errors: rare, so Strings are fine here. */
    private void onControl(ChannelHandlerContext ctx, FrameScanner s, byte[] b, int len) {
        Stats stats = run.stats;
        if (s.typeIs(SUBSCRIPTION_ACK)) {
            stats.ack("subscription_ack");
            if (indexOf(b, len, REJECTED) >= 0) stats.error("subscription_rejected");
            seedPositions(b, len);
            subscribed(ctx);
        } else if (s.typeIs(PONG)) {
            stats.ack("pong");
        } else if (s.typeIs(RECONNECT_ACK)) {
            stats.ack("reconnect_ack");
            if (client.awaitingRecovery) run.recoveryAnswered(client, indexOf(b, len, NOT_RECOVERED) < 0);
        } else if (s.typeIs(RECONNECT_ERROR)) {
            stats.error("reconnect_error");
            if (client.awaitingRecovery) run.recoveryAnswered(client, false);
        } else if (s.typeIs(AUTH_ACK)) {
            stats.ack("auth_ack");
            stats.authOk.increment();
            run.authAnswered(client, ctx.channel());
        } else if (s.typeIs(AUTH_ERROR)) {
            stats.authFailure(errorCode(b, len));
            run.authAnswered(client, ctx.channel());
        } else if (s.typeIs(ERROR)) {
            String code = errorCode(b, len);
            stats.error("server_error_" + code);
            if (client.awaitingAuth) { // a server that does not know the auth message
                stats.authFailure("error_" + code);
                run.authAnswered(client, ctx.channel());
            }
        } else {
            String type = s.type();
            if (type == null) {
                stats.unparsable.increment();
            } else if (type.endsWith("_error")) {
                stats.error(type);
            } else {
                stats.ack(stats.acks.size() < 64 || stats.acks.containsKey(type) ? type : "other");
            }
        }
    }

    /**
     * With --recover: the ack's {@code positions} (ext) give a starting position for channels that have
     * not had a message yet, so they can be recovered too. A position already known is newer: kept.
     */
    private void seedPositions(byte[] b, int len) {
        if (client.lastPos == null || indexOf(b, len, POSITIONS) < 0) return;
        JsonObject positions = new JsonObject(io.vertx.core.buffer.Buffer.buffer(java.util.Arrays.copyOf(b, len))).getJsonObject("positions");
        if (positions == null) return;
        for (String channel : positions.fieldNames()) {
            byte[] name = channel.getBytes(java.nio.charset.StandardCharsets.UTF_8);
            int index = run.plan.table.indexOf(name, 0, name.length);
            int slot = index < 0 ? -1 : client.slot(index);
            String[] pos = positions.getString(channel, "").split(":");
            if (slot >= 0 && client.lastPos[slot] < 0 && pos.length == 2) {
                client.remember(slot, Long.parseLong(pos[0]), Long.parseLong(pos[1]));
            }
        }
    }

    /** The subscription holds on this session: a subscription_ack (odin) or the completed handshake (nchan). */
    private void subscribed(ChannelHandlerContext ctx) {
        Stats stats = run.stats;
        if (!subscribedHere) {
            subscribedHere = true;
            stats.held.incrementAndGet();
        }
        if (client.ackMillis < 0) {
            client.ackMillis = System.currentTimeMillis();
            stats.subscribed.increment();
            if (client.slow) {
                stats.slow.increment();
                if (run.options.slowReadBytesPerSecond() == 0) {
                    ctx.channel().config().setAutoRead(false); // stop reading: the server's queue for us fills up
                } else {
                    client.slowReadStartNanos = System.nanoTime();
                }
            }
        }
        client.backoffAttempt = 0;
        if (client.awaitingBack) run.backAfterDrop(client);
    }

    /**
     * Retry-After in milliseconds: delay-seconds or an HTTP date (RFC 9110 section 10.2.3); 0 when absent or not
     * understood, capped at an hour so that a broken header cannot park a client for the whole run.
     */
    static long retryAfterMillis(String value) {
        if (value == null || value.isBlank()) return 0;
        String v = value.trim();
        long millis;
        try {
            millis = Long.parseLong(v) * 1000;
        } catch (NumberFormatException notSeconds) {
            try {
                millis = java.time.ZonedDateTime.parse(v, java.time.format.DateTimeFormatter.RFC_1123_DATE_TIME)
                        .toInstant().toEpochMilli() - System.currentTimeMillis();
            } catch (java.time.format.DateTimeParseException notADate) {
                return 0;
            }
        }
        return Math.max(0, Math.min(millis, 3_600_000));
    }

    private static String errorCode(byte[] b, int len) {
        try {
            Object c = new JsonObject(io.vertx.core.buffer.Buffer.buffer(java.util.Arrays.copyOf(b, len))).getValue("code");
            String code = c instanceof String str ? str : "";
            return code.isEmpty() ? "UNKNOWN" : code.length() > 40 ? code.substring(0, 40) : code;
        } catch (RuntimeException e) {
            return "UNKNOWN";
        }
    }

    private static int indexOf(byte[] b, int len, byte[] what) {
        outer:
        for (int i = 0; i + what.length <= len; i++) {
            for (int j = 0; j < what.length; j++) if (b[i + j] != what[j]) continue outer;
            return i;
        }
        return -1;
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        int code = open ? (closeCode < 0 ? 1006 : closeCode) : -1;
        run.onClosed(client, ctx.channel(), open, subscribedHere, code);
        open = false;
        subscribedHere = false;
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        run.stats.error(errorKind(cause));
        ctx.close();
    }

    static String errorKind(Throwable t) {
        if (t instanceof io.netty.channel.ConnectTimeoutException) return "connect_timeout";
        if (t instanceof ConnectException) return "connect_refused";
        if (t instanceof BindException) return "bind_failed";
        if (t instanceof CorruptedWebSocketFrameException) return "bad_frame";
        if (t instanceof WebSocketHandshakeException) return "handshake_failed";
        if (t instanceof IOException) return "io_error";
        return t.getClass().getSimpleName();
    }
}
