package io.odinws.tools.loadtest;

import io.vertx.core.json.JsonObject;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.AdaptiveRecvByteBufAllocator;
import io.netty.channel.FixedRecvByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketClientHandshakerFactory;
import io.netty.handler.codec.http.websocketx.extensions.WebSocketClientExtensionHandler;
import io.netty.handler.codec.http.websocketx.extensions.compression.PerMessageDeflateClientExtensionHandshaker;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.websocketx.WebSocketVersion;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.channels.ClosedChannelException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * One client process's run: opens the clients at the ramp rate on one shared event-loop group, and drives
 * everything periodic from a single control loop on the calling thread (ramp every 10 ms; once a second:
 * progress, the --drop-fraction drop when due, heartbeats, handshake timeouts), so there is no timer per
 * connection. At the end it closes the clients, computes loss against the ground truth (if any) and builds
 * this process's report.
 */
final class LoadRunner {
    static final int MAX_FRAME = 2 * 1024 * 1024;
    /** A --slow-read-rate client's socket receive buffer (Linux doubles it) and read size. */
    private static final int SLOW_RCVBUF = 16 * 1024;
    private static final int SLOW_READ = 4 * 1024;
    /** Connect plus WebSocket handshake must finish within this. */
    private static final long HANDSHAKE_TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(10);
    private static final long BACKOFF_BASE_MILLIS = 100;
    private static final long BACKOFF_MAX_MILLIS = 10_000;
    private static final byte[] HEARTBEAT = "{\"type\":\"heartbeat\"}".getBytes(StandardCharsets.US_ASCII);
    /** An auth message unanswered this long: counted as a failure, and the client subscribes anyway. */
    private static final long AUTH_TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(10);

    final LoadTestOptions options;
    final ChannelPlan plan;
    final Stats stats;
    /** --protocol nchan: clients connect to /sub/<channel>, send nothing, and count as subscribed on the handshake. */
    final boolean nchan;
    private final URI[] nchanUris; // per channel-table index; null in odin mode
    private final GroundTruth truth;
    private final String truthSource;
    private final Consumer<Progress.Sample> progress;
    private final Client[] clients;
    private final CountDownLatch stopRequest = new CountDownLatch(1);
    private final byte[] sharedSubscribe;
    /** --auth-*: the token of each user this process's clients use (null elsewhere); null without auth. */
    private String[] tokens;
    private EventLoopGroup group;
    private Bootstrap bootstrap;
    private InetSocketAddress remote;
    private volatile boolean stopping;
    private volatile long startNanos;
    private volatile long lastFirstOpenNanos;
    /** --drop-after in nanoseconds from the start, -1 without a drop; the drop instant once it happened. */
    private final long dropAfterNanos;
    private boolean dropDone;
    private volatile long dropNanos;

    /**
     * @param truth       ground truth for the loss check, or null (loss reported as null)
     * @param truthSource name of the truth in the report ("kafka", "injected")
     * @param progress    receives a sample every second
     */
    LoadRunner(LoadTestOptions options, GroundTruth truth, String truthSource, Consumer<Progress.Sample> progress) {
        this.options = options;
        this.plan = new ChannelPlan(options);
        this.stats = new Stats(plan.table.size());
        this.truth = truth;
        this.truthSource = truthSource;
        this.progress = progress;
        this.clients = new Client[options.connections()];
        for (int i = 0; i < clients.length; i++) {
            int g = options.clientOffset() + i;
            boolean drop = options.dropFraction() > 0 && plan.isDropped(g);
            clients[i] = new Client(i, g, plan.channelsOf(g), plan.isSlow(g), drop, options.recover(), truth != null);
            if (drop) stats.dropSelected.increment();
        }
        this.dropAfterNanos = options.dropFraction() > 0 ? TimeUnit.SECONDS.toNanos(options.dropAfterSeconds()) : -1;
        this.sharedSubscribe = options.subscribe().kind() == LoadTestOptions.Subscribe.Kind.ALL ? subscribeMessage(clients[0]) : null;
        this.nchan = options.nchan() != null;
        if (nchan) {
            nchanUris = new URI[plan.table.size()];
            for (int i = 0; i < nchanUris.length; i++) nchanUris[i] = NchanOptions.subscriberUri(options.url(), plan.table.name(i));
        } else {
            nchanUris = null;
        }
    }

    private Runnable onConnecting = () -> { };

    /** Called once, on the calling thread, right before the first connection is opened. */
    void onConnecting(Runnable r) {
        onConnecting = r;
    }

    /** Ends the run early (e.g. on SIGINT); the report is still produced. */
    void requestStop() {
        stopRequest.countDown();
    }

    /** Runs for the configured duration and returns this process's report (without expectations). */
    JsonObject run() throws Exception {
        long startedAt = System.currentTimeMillis();
        if (truth != null) truth.start(subscribedChannels());
        if (options.auth() != null) tokens = ClientTokens.mint(options.auth(), options.clientOffset(), clients.length);
        remote = new InetSocketAddress(InetAddress.getByName(options.url().getHost()), options.port());
        WsClientHandler.loadFrameKinds();
        group = new MultiThreadIoEventLoopGroup(options.threads(), ioHandlerFactory());
        bootstrap = new Bootstrap().group(group).channel(channelClass())
                .option(ChannelOption.TCP_NODELAY, true)
                // No connect timer per socket (Netty keeps a cancelled one queued until its deadline): the control
                // loop's once-a-second sweep times out connects and handshakes instead.
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 0)
                // Small first reads: most frames are a few hundred bytes; the allocator grows when needed.
                .option(ChannelOption.RECVBUF_ALLOCATOR, new AdaptiveRecvByteBufAllocator(64, 512, 64 * 1024));
        if (options.controlStdin()) {
            StdinCommands.read(System.in, line -> {
                String done = StdinCommands.apply(line, stats);
                System.err.println(done != null ? "loadtest: " + line + ": " + done : "loadtest: unknown command on stdin: " + line);
            });
        }
        onConnecting.run();
        startNanos = System.nanoTime();
        int heldAtEnd;
        long endMillis;
        try {
            controlLoop();
            stopping = true;
            endMillis = System.currentTimeMillis();
            heldAtEnd = stats.held.get();
            closeAll();
        } finally {
            stopping = true;
            group.shutdownGracefully(0, 500, TimeUnit.MILLISECONDS).await(10, TimeUnit.SECONDS);
        }
        double elapsed = (System.nanoTime() - startNanos) / 1e9;
        stats.interval(); // the last partial second into the totals
        LossCalculator.Loss loss = null;
        if (truth != null) {
            Map<String, GroundTruth.ChannelRecords> records = truth.collect(endMillis);
            loss = LossCalculator.compute(clients, plan.table, records, endMillis, options.lossGraceMillis(), options.auth());
        }
        long lastOpen = lastFirstOpenNanos;
        double ramp = lastOpen == 0 ? 0 : (lastOpen - startNanos) / 1e9;
        return Report.build(new Report.Local(options, stats, startedAt, elapsed, heldAtEnd, ramp, loss, truthSource));
    }

    private void controlLoop() throws InterruptedException {
        long start = startNanos;
        long end = start + TimeUnit.SECONDS.toNanos(options.durationSeconds());
        long nextTick = start + 1_000_000_000L;
        long tick = 0;
        int next = 0;
        while (true) {
            long now = System.nanoTime();
            if (now - end >= 0) return;
            // connections due: one at t=0, then rampPerSecond per second
            long due = Math.min(clients.length, 1 + (long) ((now - start) / 1e9 * options.rampPerSecond()));
            while (next < due) connect(clients[next++]);
            if (now - nextTick >= 0) {
                tick(++tick, now);
                nextTick += 1_000_000_000L;
            }
            long wait = Math.min(10_000_000L, Math.min(nextTick, end) - System.nanoTime());
            if (wait > 0 && stopRequest.await(wait, TimeUnit.NANOSECONDS)) return;
        }
    }

    /**
     * Once a second: progress, the drop (at the first tick at or after --drop-after), heartbeats for 1/heartbeat
     * of the clients, handshake timeouts.
     */
    private void tick(long tick, long now) {
        var iv = stats.interval();
        progress.accept(new Progress.Sample((now - startNanos) / 1e9, stats.open.get(), clients.length,
                stats.subscribed.sum(), stats.received.sum(), stats.errorsTotal.sum(), Stats.snapshot(stats.closes),
                iv[0], iv[1], stats.dropped.sum(), stats.dropBack.sum()));
        if (dropAfterNanos >= 0 && !dropDone && now - startNanos >= dropAfterNanos) {
            dropDone = true;
            drop();
        }
        int hb = options.heartbeatSeconds();
        for (Client c : clients) {
            Channel ch = c.channel;
            if (ch == null) continue;
            if (c.wsOpen) {
                if (c.awaitingAuth && now - c.authSentNanos > AUTH_TIMEOUT_NANOS) {
                    ch.eventLoop().execute(() -> {
                        if (c.channel != ch || !c.awaitingAuth) return; // answered meanwhile
                        stats.authFailure("no_auth_ack");
                        authAnswered(c, ch);
                    });
                }
                if (hb > 0 && !nchan && c.index % hb == tick % hb) {
                    ch.writeAndFlush(new TextWebSocketFrame(Unpooled.wrappedBuffer(HEARTBEAT)), ch.voidPromise());
                    stats.heartbeatsSent.increment();
                }
            } else if (now - c.attemptStartNanos > HANDSHAKE_TIMEOUT_NANOS && ch.isOpen()) {
                stats.error(ch.isActive() ? "handshake_timeout" : "connect_timeout");
                ch.close();
            }
        }
    }

    /**
     * --drop-fraction: resets the open socket of every chosen client at once, as a network failure would: with
     * SO_LINGER 0 close() sends a RST, so the server sees a reset and no close frame. The clients come back by the
     * usual path (onClosed, scheduleReconnect with backoff, onOpen: subscribe and reconnect with their positions);
     * one instant for the whole batch is what their times are measured from.
     */
    private void drop() {
        long at = System.nanoTime();
        dropNanos = at;
        stats.dropAtMillis = TimeUnit.NANOSECONDS.toMillis(at - startNanos);
        for (Client c : clients) {
            Channel ch = c.channel;
            if (!c.drop || ch == null || !c.wsOpen) continue;
            ch.eventLoop().execute(() -> {
                if (c.channel != ch || !c.wsOpen || stopping) return; // closed meanwhile: nothing to drop
                c.awaitingBack = true;
                c.awaitingRecovery = true;
                c.resetByDrop = true;
                stats.dropped.increment();
                ch.config().setOption(ChannelOption.SO_LINGER, 0);
                ch.close();
            });
        }
    }

    /** Event loop: a dropped client is subscribed again; without a position to send, that is its recovery too. */
    void backAfterDrop(Client c) {
        c.awaitingBack = false;
        stats.dropBack.increment();
        stats.dropToBack.recordValue(sinceDropMicros());
        if (!c.reconnectSent) recoveryAnswered(c, true);
    }

    /** Event loop: a dropped client's reconnect was answered (reconnect_ack, or reconnect_error: not recovered). */
    void recoveryAnswered(Client c, boolean recovered) {
        if (!c.awaitingRecovery) return;
        c.awaitingRecovery = false;
        if (recovered) {
            stats.dropRecovered.increment();
            stats.dropToRecovered.recordValue(sinceDropMicros());
        } else {
            stats.dropNotRecovered.increment();
        }
    }

    private long sinceDropMicros() {
        return Math.min(Stats.MAX_MICROS, Math.max(0, (System.nanoTime() - dropNanos) / 1000));
    }

    /** Counts the bytes each socket reads, before any decoding (compressed messages as they came). */
    private final ChannelInboundHandlerAdapter wireBytes = new WireBytes();

    @io.netty.channel.ChannelHandler.Sharable
    private final class WireBytes extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(io.netty.channel.ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof io.netty.buffer.ByteBuf b) stats.wireBytes.add(b.readableBytes());
            ctx.fireChannelRead(msg);
        }
    }

    private void connect(Client c) {
        if (stopping) return;
        boolean again = c.everOpened || c.attemptStartNanos != 0;
        if (again) stats.reconnectAttempts.increment();
        else stats.attempted.increment();
        // a client's first connection only: a reconnect subscribes by message, with its positions in the same read
        URI uri = nchan ? nchanUris[c.channels[0]]
                : options.subscribeOnUpgrade() && !c.everOpened ? withSubscribe(options.url(), plan.subscriptionOf(c.globalIndex))
                : options.url();
        HttpHeaders headers = EmptyHttpHeaders.INSTANCE;
        String token = tokenOf(c);
        if (token != null && options.auth().present() == AuthOptions.Present.HEADER) {
            headers = new DefaultHttpHeaders().set(HttpHeaderNames.AUTHORIZATION, "Bearer " + token);
        } else if (token != null && options.auth().present() == AuthOptions.Present.QUERY) {
            uri = withToken(uri, token);
        }
        var handshaker = WebSocketClientHandshakerFactory.newHandshaker(uri, WebSocketVersion.V13, null, options.deflate(),
                headers, MAX_FRAME);
        WsClientHandler handler = new WsClientHandler(this, c, handshaker, c.everOpened);
        Bootstrap b = bootstrap.clone();
        if (c.slow && options.slowReadBytesPerSecond() > 0) {
            // A slow link, not a slow process: a small receive buffer and small reads, so that the kernel's window
            // opens a few KB at a time as the client reads. With the defaults a loopback socket buffers megabytes and
            // reads 64 KiB at once, and its window (a 64 KiB segment on loopback) reopens only every few seconds at a
            // slow rate: the server then sees no byte leave for longer than its grace period.
            b.option(ChannelOption.SO_RCVBUF, SLOW_RCVBUF).option(ChannelOption.RECVBUF_ALLOCATOR, new FixedRecvByteBufAllocator(SLOW_READ));
        }
        b.handler(new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel ch) {
                // Here, on the channel's loop before it connects, not after connect() returns on the control thread:
                // that thread shares the generator's core with the loops, and a loop could finish the handshake and
                // read the auth_ack before the thread ran again, while the client's channel was not this one yet.
                c.channel = ch;
                ch.pipeline().addLast(wireBytes, new HttpClientCodec(4096, 8192, 8192), new HttpObjectAggregator(16 * 1024));
                if (options.deflate()) {
                    // as a browser offers it; server_no_context_takeover asked for, since Netty's client refuses it otherwise
                    ch.pipeline().addLast(new WebSocketClientExtensionHandler(new PerMessageDeflateClientExtensionHandshaker(
                            6, false, 15, true, true, MAX_FRAME)));
                }
                ch.pipeline().addLast(handler);
            }
        });
        c.attemptStartNanos = System.nanoTime();
        List<InetAddress> sources = options.sourceAddresses();
        ChannelFuture f = sources.isEmpty() ? b.connect(remote)
                : b.connect(remote, new InetSocketAddress(sources.get(c.index % sources.size()), 0));
        f.addListener((ChannelFutureListener) fut -> {
            if (fut.isSuccess()) return;
            // a ClosedChannelException means the sweep closed a connect that took too long: already counted
            if (!stopping && !(fut.cause() instanceof ClosedChannelException)) stats.error(WsClientHandler.errorKind(fut.cause()));
            if (c.channel == fut.channel()) c.channel = null;
            scheduleReconnect(c);
        });
    }

    /**
     * Event loop: a session's handshake completed. Subscribes, and with recovery asks for what was missed
     * (nchan: nothing to send, the URL is the subscription).
     */
    void onOpen(Client c, Channel ch, boolean reconnect) {
        stats.open.incrementAndGet();
        c.wsOpen = true;
        if (!c.everOpened) {
            c.everOpened = true;
            stats.opened.increment();
            lastFirstOpenNanos = System.nanoTime();
        } else {
            stats.reconnected.increment();
        }
        if (nchan) return;
        c.pendingReconnect = reconnect;
        String token = tokenOf(c);
        if (token != null && options.auth().present() == AuthOptions.Present.MESSAGE) {
            // the subscription waits for the answer: private channels need the identity first
            c.awaitingAuth = true;
            c.authSentNanos = System.nanoTime();
            byte[] auth = ("{\"type\":\"auth\",\"data\":{\"token\":\"" + token + "\"}}").getBytes(StandardCharsets.US_ASCII);
            ch.writeAndFlush(new TextWebSocketFrame(Unpooled.wrappedBuffer(auth)), ch.voidPromise());
            return;
        }
        subscribe(c, ch);
    }

    /**
     * Event loop: the auth message was answered (auth_ack, auth_error, another error, or nothing in time): the
     * client subscribes either way, so that a refused token shows in the report and its public channels still run.
     */
    void authAnswered(Client c, Channel ch) {
        if (!c.awaitingAuth) return;
        c.awaitingAuth = false;
        if (c.channel == ch && ch.isActive()) subscribe(c, ch);
    }

    /** Event loop: the subscription, and with recovery a reconnect with the positions held. */
    private void subscribe(Client c, Channel ch) {
        boolean reconnect = c.pendingReconnect;
        if (reconnect || !options.subscribeOnUpgrade()) { // else its URL subscribed (see connect)
            byte[] sub = sharedSubscribe != null ? sharedSubscribe : subscribeMessage(c);
            ch.write(new TextWebSocketFrame(Unpooled.wrappedBuffer(sub)), ch.voidPromise());
        }
        c.reconnectSent = false;
        if (reconnect && c.lastPos != null) {
            ByteBuf msg = reconnectMessage(c);
            if (msg != null) {
                ch.write(new TextWebSocketFrame(msg), ch.voidPromise());
                c.reconnectSent = true;
            }
        }
        ch.flush();
    }

    /** Event loop: a session ended (or its handshake failed). */
    void onClosed(Client c, Channel ch, boolean wasOpen, boolean wasSubscribed, int code) {
        if (wasOpen) {
            stats.open.decrementAndGet();
            c.wsOpen = false;
        }
        if (wasSubscribed) stats.held.decrementAndGet();
        if (c.channel == ch) c.channel = null;
        c.awaitingAuth = false;
        boolean ours = c.resetByDrop; // the drop is counted in its own section, not as a close the client saw
        c.resetByDrop = false;
        if (stopping) return;
        if (wasOpen && !ours) stats.close(code);
        scheduleReconnect(c);
    }

    private void scheduleReconnect(Client c) {
        if (stopping || !options.recover()) return;
        int attempt = Math.min(c.backoffAttempt++, 16);
        long cap = Math.min(BACKOFF_MAX_MILLIS, BACKOFF_BASE_MILLIS << Math.min(attempt, 10));
        long delay = cap / 2 + ThreadLocalRandom.current().nextLong(cap / 2 + 1); // "equal jitter"
        long retryAfter = c.retryAfterMillis;
        c.retryAfterMillis = 0;
        if (retryAfter > 0) {
            // the server said when: not before, and spread over half as long again so the refused clients do not
            // all come back in the same instant
            delay = Math.max(delay, retryAfterDelay(retryAfter, ThreadLocalRandom.current().nextDouble()));
            stats.retryAfterWaits.increment();
        }
        group.schedule(() -> connect(c), delay, TimeUnit.MILLISECONDS);
    }

    /** The wait after a refusal with {@code Retry-After}: that long plus a jitter of up to half as much; {@code random} in [0, 1). */
    static long retryAfterDelay(long retryAfterMillis, double random) {
        return retryAfterMillis + (long) (random * (retryAfterMillis / 2.0));
    }

    /** Ends every session: a 1000 close frame where the WebSocket is open, a plain close otherwise. */
    private void closeAll() throws InterruptedException {
        for (Client c : clients) {
            Channel ch = c.channel;
            if (ch == null) continue;
            if (c.wsOpen) {
                ch.writeAndFlush(new CloseWebSocketFrame(1000, "load test finished")).addListener(ChannelFutureListener.CLOSE);
            } else {
                ch.close();
            }
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
        while (stats.open.get() > 0 && System.nanoTime() < deadline) Thread.sleep(20);
    }

    private Collection<String> subscribedChannels() {
        TreeSet<Integer> idx = new TreeSet<>();
        for (Client c : clients) for (int ch : c.channels) idx.add(ch);
        List<String> out = new ArrayList<>();
        for (int i : idx) out.add(plan.table.name(i));
        return out;
    }

    /** The token client {@code c} presents, or null without --auth-*. */
    private String tokenOf(Client c) {
        return tokens == null ? null : tokens[options.auth().userOf(c.globalIndex)];
    }

    /** {@code uri} with {@code token=<jwt>} added to its query (a JWT is URL-safe: base64url and dots). */
    static URI withToken(URI uri, String token) {
        return withParameter(uri, "token", token);
    }

    /** {@code uri} with {@code subscribe=<channels>} added to its query (channel names need no escaping: {@code *} is allowed in a query). */
    static URI withSubscribe(URI uri, List<String> channels) {
        return withParameter(uri, "subscribe", String.join(",", channels));
    }

    /** {@code uri}, without its fragment, with {@code name=value} added to its query; {@code value} as given, unescaped. */
    private static URI withParameter(URI uri, String name, String value) {
        String q = uri.getRawQuery();
        String s = uri.toString();
        int hash = s.indexOf('#');
        if (hash >= 0) s = s.substring(0, hash);
        return URI.create(s + (q == null || q.isEmpty() ? "?" : "&") + name + "=" + value);
    }

    private byte[] subscribeMessage(Client c) {
        List<String> names = plan.subscriptionOf(c.globalIndex);
        StringBuilder sb = new StringBuilder(32 + names.size() * 16).append("{\"type\":\"subscribe\",\"data\":{\"channels\":[");
        for (int i = 0; i < names.size(); i++) {
            if (i > 0) sb.append(',');
            sb.append('"').append(names.get(i)).append('"'); // names hold no quotes or backslashes
        }
        return sb.append("]}}").toString().getBytes(StandardCharsets.UTF_8);
    }

    /** {@code {"type":"reconnect","data":{"client_id":..,"last_offset":{channel:"p:o" or offset}}}}, or null if no position yet. */
    private ByteBuf reconnectMessage(Client c) {
        StringBuilder sb = new StringBuilder(64).append("{\"type\":\"reconnect\",\"data\":{\"client_id\":\"loadtest-")
                .append(c.globalIndex).append("\",\"last_offset\":{");
        boolean any = false;
        for (int slot = 0; slot < c.channels.length; slot++) {
            long p = c.lastPos[slot];
            if (p < 0) continue;
            if (any) sb.append(',');
            any = true;
            sb.append('"').append(plan.table.name(c.channels[slot])).append("\":");
            if (Client.partitionOf(p) == Client.NO_PARTITION) sb.append(Client.offsetOf(p));
            else sb.append('"').append(Client.partitionOf(p)).append(':').append(Client.offsetOf(p)).append('"');
        }
        if (!any) return null;
        return Unpooled.wrappedBuffer(sb.append("}}}").toString().getBytes(StandardCharsets.UTF_8));
    }

    /** Epoll when its native library is on the class path and loads, else NIO (portable). */
    private static IoHandlerFactory ioHandlerFactory() {
        if (epollAvailable()) {
            try {
                return (IoHandlerFactory) Class.forName("io.netty.channel.epoll.EpollIoHandler").getMethod("newFactory").invoke(null);
            } catch (ReflectiveOperationException e) {
                // fall through to NIO
            }
        }
        return NioIoHandler.newFactory();
    }

    @SuppressWarnings("unchecked")
    private static Class<? extends Channel> channelClass() {
        if (epollAvailable()) {
            try {
                return (Class<? extends Channel>) Class.forName("io.netty.channel.epoll.EpollSocketChannel");
            } catch (ClassNotFoundException e) {
                // fall through to NIO
            }
        }
        return NioSocketChannel.class;
    }

    private static boolean epollAvailable() {
        try {
            return (Boolean) Class.forName("io.netty.channel.epoll.Epoll").getMethod("isAvailable").invoke(null);
        } catch (ReflectiveOperationException | LinkageError e) {
            return false;
        }
    }
}
