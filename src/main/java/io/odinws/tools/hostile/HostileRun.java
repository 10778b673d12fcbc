package io.odinws.tools.hostile;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A hostile run: the slots of every kind open their sockets at the ramp, each slot opens a new socket a pause after
 * its previous one ended, and at the end of the duration every open socket is counted as still open and closed.
 * Everything runs on one event loop thread; the run ends by itself.
 */
public final class HostileRun {

    /** How long a slot waits after a failed connect at least, so that a refused port is not hammered. */
    private static final long MIN_RETRY_MILLIS = 100;
    private static final int CONNECT_TIMEOUT_MILLIS = 5_000;

    /** One concurrent hostile socket's place: its kind and source address; its current socket, if any. */
    static final class Slot {
        private final Kind kind;
        private final InetAddress source;
        private HostileSocket socket;

        Slot(Kind kind, InetAddress source) {
            this.kind = kind;
            this.source = source;
        }

        Kind kind() {
            return kind;
        }
    }

    private final HostileOptions options;
    private final Fates fates;
    private final List<Slot> slots = new ArrayList<>();
    private final byte[] floodFrame = Frames.text("{\"type\":\"heartbeat\"}");
    private final byte[] oversizeFrame;
    private final String host;
    private final int port;
    private final String path;
    private final InetSocketAddress remote;
    private MultiThreadIoEventLoopGroup group;
    private EventLoop loop;
    private Bootstrap bootstrap;
    private boolean stopping;

    private HostileRun(HostileOptions options) {
        this.options = options;
        this.fates = new Fates(options);
        this.oversizeFrame = options.slotsOf(Kind.OVERSIZE) > 0 ? Frames.oversizeText(options.oversizeBytes()) : new byte[0];
        this.host = options.url().getHost();
        this.port = options.url().getPort();
        String p = options.url().getRawPath();
        this.path = p == null || p.isEmpty() ? "/" : p;
        this.remote = new InetSocketAddress(host, port);
        // Slots interleaved by kind, so that every kind opens over the whole ramp and all source addresses.
        List<Kind> order = new ArrayList<>();
        int most = 0;
        for (Kind k : Kind.values()) most = Math.max(most, options.slotsOf(k));
        for (int i = 0; i < most; i++) {
            for (Kind k : Kind.values()) {
                if (i < options.slotsOf(k)) order.add(k);
            }
        }
        List<InetAddress> sources = options.sourceAddresses();
        for (int i = 0; i < order.size(); i++) slots.add(new Slot(order.get(i), sources.get(i % sources.size())));
    }

    /** Runs to the end of the duration and returns the summary (fates by kind and reason). */
    public static JsonObject run(HostileOptions options) throws InterruptedException {
        return new HostileRun(options).execute();
    }

    private JsonObject execute() throws InterruptedException {
        long t0 = System.nanoTime();
        group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        loop = group.next();
        bootstrap = new Bootstrap().group(loop).channel(NioSocketChannel.class)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, CONNECT_TIMEOUT_MILLIS)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.SO_REUSEADDR, true)
                // a failed write (the server closed) leaves the channel open, so that its close frame can be read
                .option(ChannelOption.AUTO_CLOSE, false);
        CompletableFuture<Void> finished = new CompletableFuture<>();
        try {
            long everyNanos = 1_000_000_000L / options.rampPerSecond();
            for (int i = 0; i < slots.size(); i++) {
                Slot s = slots.get(i);
                loop.schedule(() -> open(s), i * everyNanos, TimeUnit.NANOSECONDS);
            }
            loop.schedule(() -> {
                stop();
                finished.complete(null);
            }, options.durationSeconds(), TimeUnit.SECONDS);
            finished.join();
        } finally {
            // the closes issued by stop() reach the server before the loop goes away
            group.shutdownGracefully(200, 2_000, TimeUnit.MILLISECONDS).await(10, TimeUnit.SECONDS);
        }
        JsonObject out = fates.toJson();
        List<InetAddress> src = options.sourceAddresses();
        JsonObject opts = new JsonObject().put("url", options.url().toString()).put("duration_s", options.durationSeconds())
                .put("ramp_per_s", options.rampPerSecond()).put("pause_ms", options.pauseMillis())
                .put("trickle_ms", options.trickleMillis()).put("flood_rate", options.floodRate())
                .put("oversize_bytes", options.oversizeBytes()).put("echo_timeout_ms", options.echoTimeoutMillis())
                .put("source_addresses", new JsonArray().add(src.get(0).getHostAddress()).add(src.get(src.size() - 1).getHostAddress()))
                .put("source_address_count", src.size());
        return new JsonObject().put("options", opts).put("elapsed_s", Math.round((System.nanoTime() - t0) / 1e8) / 10.0)
                .mergeIn(out);
    }

    /** Event loop: opens the slot's next socket. */
    private void open(Slot s) {
        if (stopping) return;
        long start = System.nanoTime();
        HostileSocket socket = new HostileSocket(this, s, start);
        s.socket = socket;
        fates.opened(s.kind);
        ChannelFuture f = bootstrap.clone().handler(socket).connect(remote, new InetSocketAddress(s.source, 0));
        socket.attach(f.channel());
        f.addListener((ChannelFutureListener) done -> {
            if (done.isSuccess() || socket.done()) return; // a socket still connecting at the end is counted there
            if (s.socket == socket) s.socket = null;
            socket.connectFailed();
            if (stopping) return;
            loop.schedule(() -> open(s), Math.max(MIN_RETRY_MILLIS, options.pauseMillis()), TimeUnit.MILLISECONDS);
        });
    }

    /** Event loop: the slot's socket is closed; the next one after the pause. */
    void ended(Slot s) {
        s.socket = null;
        if (stopping) return;
        if (options.pauseMillis() == 0) {
            open(s);
        } else {
            loop.schedule(() -> open(s), options.pauseMillis(), TimeUnit.MILLISECONDS);
        }
    }

    /** Event loop: the end of the run. */
    private void stop() {
        stopping = true;
        for (Slot s : slots) {
            HostileSocket socket = s.socket;
            if (socket != null && !socket.done()) socket.stillOpenAtEnd();
        }
    }

    HostileOptions options() {
        return options;
    }

    Fates fates() {
        return fates;
    }

    String host() {
        return host;
    }

    int port() {
        return port;
    }

    String path() {
        return path;
    }

    byte[] floodFrame() {
        return floodFrame;
    }

    byte[] oversizeFrame() {
        return oversizeFrame;
    }
}
