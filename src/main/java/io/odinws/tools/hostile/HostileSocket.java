package io.odinws.tools.hostile;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.concurrent.ScheduledFuture;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/**
 * One hostile socket: does its kind's misbehaviour and records its one fate, the first of: an HTTP answer other
 * than 101, a close frame, the server closing or resetting the socket, the end of the run. Runs on the run's
 * event loop only. Owns {@code in}, the bytes received and not parsed yet (released when the socket ends).
 */
final class HostileSocket extends ChannelInboundHandlerAdapter {

    /** Upgrade answers are small; a server that sends more before its blank line is not answering an upgrade. */
    private static final int MAX_HEADER_BYTES = 16 * 1024;
    private static final long FLOOD_TICK_MILLIS = 50;
    private static final long RESET_GRACE_MILLIS = 200;

    private final HostileRun run;
    private final HostileRun.Slot slot;
    private final long startNanos;
    private ChannelHandlerContext ctx;
    private io.netty.channel.Channel channel;
    private ByteBuf in;
    private boolean upgraded;
    private boolean closeSent;
    private boolean done;
    /** A write or read failed with a reset: the fate unless a close frame still comes in. */
    private boolean resetSeen;
    private long trickled;
    private double floodCarry;
    private ScheduledFuture<?> timer;

    HostileSocket(HostileRun run, HostileRun.Slot slot, long startNanos) {
        this.run = run;
        this.slot = slot;
        this.startNanos = startNanos;
    }

    boolean done() {
        return done;
    }

    /** The socket's channel, as soon as its connect starts: the end of the run may close it before it is active. */
    void attach(io.netty.channel.Channel ch) {
        this.channel = ch;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        if (done) { // counted at the end of the run while it was still connecting
            ctx.close();
            return;
        }
        in = Unpooled.buffer(256);
        HostileOptions o = run.options();
        switch (slot.kind()) {
            case SLOW_LORIS -> {
                send(Frames.requestLine(run.path()));
                timer = ctx.executor().scheduleAtFixedRate(this::trickle, o.trickleMillis(), o.trickleMillis(), TimeUnit.MILLISECONDS);
            }
            case HALF_OPEN -> {
                // sends nothing: it only holds the accepted socket
            }
            case FLOOD, RECONNECT, OVERSIZE -> send(Frames.upgradeRequest(run.host(), run.port(), run.path()));
        }
    }

    private void trickle() {
        if (!done) send(new byte[] {Frames.trickleByte(trickled++)});
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf b = (ByteBuf) msg;
        try {
            if (!done) in.writeBytes(b);
        } finally {
            b.release();
        }
        if (done) return;
        if (!upgraded) readAnswer();
        if (upgraded && !done) readFrames();
        if (!done) in.discardReadBytes();
    }

    /** The HTTP answer: its status line decides at once unless it is 101, which waits for the blank line. */
    private void readAnswer() {
        int lineEnd = indexOf(in, "\r\n");
        if (lineEnd < 0) {
            if (in.readableBytes() > MAX_HEADER_BYTES) end(Fates.HTTP + "malformed");
            return;
        }
        int status = status(in.toString(in.readerIndex(), lineEnd - in.readerIndex(), StandardCharsets.US_ASCII));
        if (status != 101) {
            end(Fates.HTTP + (status < 0 ? "malformed" : String.valueOf(status)));
            return;
        }
        int headersEnd = indexOf(in, "\r\n\r\n");
        if (headersEnd < 0) {
            if (in.readableBytes() > MAX_HEADER_BYTES) end(Fates.HTTP + "malformed");
            return;
        }
        in.readerIndex(headersEnd + 4);
        upgraded = true;
        run.fates().upgraded(slot.kind());
        onUpgraded();
    }

    private void onUpgraded() {
        HostileOptions o = run.options();
        switch (slot.kind()) {
            case FLOOD -> timer = ctx.executor().scheduleAtFixedRate(this::flood, 0, FLOOD_TICK_MILLIS, TimeUnit.MILLISECONDS);
            case RECONNECT -> {
                closeSent = true;
                send(Frames.close(1000));
                timer = ctx.executor().schedule(() -> end(Fates.ECHO_TIMEOUT), o.echoTimeoutMillis(), TimeUnit.MILLISECONDS);
            }
            case OVERSIZE -> ctx.writeAndFlush(Unpooled.wrappedBuffer(run.oversizeFrame()), ctx.voidPromise());
            default -> throw new IllegalStateException("no upgrade for " + slot.kind());
        }
    }

    /** One tick's share of the flood rate, in one write; skipped while the server does not read (nothing piles up here). */
    private void flood() {
        if (done) return;
        floodCarry += run.options().floodRate() * (FLOOD_TICK_MILLIS / 1000.0);
        int n = (int) floodCarry;
        floodCarry -= n;
        if (n == 0 || !ctx.channel().isWritable()) return;
        byte[] one = run.floodFrame();
        ByteBuf batch = ctx.alloc().buffer(one.length * n);
        for (int i = 0; i < n; i++) batch.writeBytes(one);
        ctx.writeAndFlush(batch, ctx.voidPromise());
        run.fates().messagesSent(Kind.FLOOD, n);
    }

    /** Server frames: only a close matters; anything else (errors, pings) is skipped. */
    private void readFrames() {
        while (!done) {
            int r = in.readerIndex();
            int avail = in.readableBytes();
            if (avail < 2) return;
            int b0 = in.getUnsignedByte(r);
            int b1 = in.getUnsignedByte(r + 1);
            int header = 2;
            long len = b1 & 0x7F;
            if (len == 126) {
                if (avail < 4) return;
                len = in.getUnsignedShort(r + 2);
                header = 4;
            } else if (len == 127) {
                if (avail < 10) return;
                len = in.getLong(r + 2);
                header = 10;
            }
            if ((b1 & 0x80) != 0) header += 4; // a masked server frame is a protocol error, but skip it all the same
            if (len < 0 || avail < header + len) return;
            if ((b0 & 0x0F) == Frames.OP_CLOSE) {
                int code = len >= 2 ? in.getUnsignedShort(r + header) : Frames.NO_CODE;
                end(closeSent ? Fates.CLIENT_CLOSE_ECHOED : Fates.CLOSE + code);
                return;
            }
            in.readerIndex(r + header + (int) len);
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        end(resetSeen ? Fates.RESET : upgraded ? Fates.CLOSED_WITHOUT_CLOSE_FRAME : Fates.CLOSED_BEFORE_UPGRADE);
        run.ended(slot);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (done || resetSeen) return;
        if (!(cause instanceof IOException)) {
            end("error_" + cause.getClass().getSimpleName());
            return;
        }
        // A flood's write fails once the server has closed; its close frame may still be waiting to be read (the
        // channel is not closed on write errors): give the reads a moment before calling it a reset.
        resetSeen = true;
        ctx.executor().schedule(() -> end(Fates.RESET), RESET_GRACE_MILLIS, TimeUnit.MILLISECONDS);
    }

    /** The connect failed: that is this socket's fate. */
    void connectFailed() {
        end(Fates.CONNECT_FAILED);
    }

    /** The end of the run: counted as still open, then closed. */
    void stillOpenAtEnd() {
        end(Fates.STILL_OPEN);
    }

    /** Records this socket's fate (the first call only) and closes it. */
    private void end(String fate) {
        if (done) return;
        done = true;
        run.fates().record(slot.kind(), fate, System.nanoTime() - startNanos);
        if (timer != null) timer.cancel(false);
        if (in != null) {
            in.release();
            in = null;
        }
        if (ctx != null) {
            ctx.close();
        } else if (channel != null) {
            channel.close();
        }
    }

    private void send(byte[] bytes) {
        ctx.writeAndFlush(Unpooled.wrappedBuffer(bytes), ctx.voidPromise());
    }

    /** {@code HTTP/1.1 429 Too Many Requests} -> 429; -1 if not a status line. */
    static int status(String line) {
        String[] parts = line.split(" ", 3);
        if (parts.length < 2 || !parts[0].startsWith("HTTP/")) return -1;
        try {
            return Integer.parseInt(parts[1]);
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** Absolute index of {@code s} in the readable bytes of {@code b}, or -1. */
    private static int indexOf(ByteBuf b, String s) {
        byte[] needle = s.getBytes(StandardCharsets.US_ASCII);
        int end = b.writerIndex() - needle.length;
        outer:
        for (int i = b.readerIndex(); i <= end; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (b.getByte(i + j) != needle[j]) continue outer;
            }
            return i;
        }
        return -1;
    }
}
