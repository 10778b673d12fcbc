package io.odinws.shard;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.channel.unix.IovArray;
import io.netty.channel.unix.Socket;
import io.netty.channel.unix.UnixChannel;
import io.odinws.stats.DisconnectReason;

import java.io.IOException;
import java.util.Arrays;
import java.util.Set;

/**
 * One client socket on a shard, from accept to close, and the first handler of its pipeline. Being
 * first, its context writes straight to the socket: fan-out writes complete frames here, below the
 * WebSocket encoder, so shared bytes are never re-encoded. Every inbound read counts as activity
 * (data, ping and pong frames alike). Touched only on the shard's event loop: plain fields.
 *
 * <p>Fan-out frames wait in {@link #pending} until the shard's flush, which writes them straight to
 * the socket in one {@code send} or {@code writev} when Netty has nothing queued for it: no
 * duplicate, queue entry or reference count per delivery (those were most of the shard's Java time
 * and ~130 B of garbage per delivery). Any other write (replies, replays, close frames) first hands
 * the pending frames to Netty's queue, so bytes leave in the order they were written.
 */
final class Connection extends ChannelDuplexHandler {

  /** Frames per direct {@code writev}; more go through Netty's queue (Linux IOV_MAX is 1,024). */
  static final int MAX_DIRECT_FRAMES = 1024;

  final ShardVerticle shard;
  Channel channel;
  ChannelHandlerContext ctx;
  long lastActivityNanos;
  long lastPingNanos;
  long upgradedAtNanos;
  /** The WebSocket handshake completed. */
  boolean upgraded;
  /** A close was started: no more fan-out writes. */
  boolean closing;
  /** Why the server or the client ended it; null until known. */
  DisconnectReason closeReason;
  /** Written to in the current batch and awaiting its one flush. */
  boolean dirty;
  /** The fan-out stamp of the last message written here: one delivery per message despite wildcards. */
  long deliveredStamp;
  /** Position in the shard's connection list, for O(1) removal. */
  int slot = -1;
  /** Subscribed channels and wildcards; null until the first subscribe. Maintained by {@link SubscriptionIndex}. */
  Set<String> channels;
  /** The socket, for direct writes; null on transports without one (then every write goes through Netty). */
  private Socket socket;
  /**
   * Fan-out frames since the last flush, in order. Not owned: the shard holds one reference to each
   * frame until its flush has run (see {@code ShardVerticle#holdUntilFlush}). Null until the first.
   */
  private ByteBuf[] pending;
  private int pendingCount;

  // inbound rate: token bucket, and the flood detector's per-second window
  double tokens;
  long tokensAtNanos;
  long lastRateErrorNanos;
  int windowMessages;
  int floodSeconds;
  /** Channels being recovered: their live messages are held back until the replay is written. Null when none. */
  java.util.Map<String, HeldBack> recovering;
  /** When the outbound queue went over the high water mark; 0 while under it. */
  long slowSinceNanos;

  Connection(ShardVerticle shard, long nowNanos, int burst) {
    this.shard = shard;
    this.lastActivityNanos = nowNanos;
    this.lastPingNanos = nowNanos;
    this.tokens = burst;
    this.tokensAtNanos = nowNanos;
  }

  int subscriptionCount() {
    return channels == null ? 0 : channels.size();
  }

  /** Queues a complete frame in Netty's queue, after the pending ones; takes ownership of {@code frame}. */
  void writeFrame(ByteBuf frame) {
    drainPending();
    ctx.write(frame, ctx.voidPromise());
  }

  /** Adds a fan-out frame for the next flush, without a reference of its own (see {@link #pending}). */
  void queue(ByteBuf frame) {
    if (pending == null) {
      pending = new ByteBuf[4];
    } else if (pendingCount == pending.length) {
      pending = Arrays.copyOf(pending, pendingCount * 2);
    }
    pending[pendingCount++] = frame;
  }

  /**
   * Sends the pending frames and flushes. Straight to the socket when Netty holds nothing for it;
   * what the socket does not take (its buffer is full) goes to Netty's queue, which then waits for
   * the socket to drain and drives writability (the slow-client limits) as for any write.
   *
   * @param iov the shard's scratch vector for {@code writev}; null once the shard has stopped
   */
  void flush(IovArray iov) {
    if (pendingCount > 0) {
      if (socket != null && iov != null && pendingCount <= MAX_DIRECT_FRAMES && channel.isActive() && pendingBytes() == 0) {
        if (writeDirect(iov)) {
          return; // everything is in the socket, and Netty had nothing to flush
        }
      } else {
        drainPending();
      }
    }
    ctx.flush();
  }

  /** @return true if the socket took every pending frame */
  private boolean writeDirect(IovArray iov) {
    ByteBuf[] frames = pending;
    int count = pendingCount;
    long total = 0;
    if (count > 1) {
      iov.clear();
    }
    for (int i = 0; i < count; i++) {
      ByteBuf f = frames[i];
      // one frame (the usual case) needs no vector entry: it goes by send(2)
      if (!f.hasMemoryAddress() || count > 1 && !iov.add(f, f.readerIndex(), f.readableBytes())) {
        drainPending(); // a heap frame: Netty's path
        return false;
      }
      total += f.readableBytes();
    }
    long written;
    try {
      // send(2) for one frame, as Netty does (write(2) also runs the VFS layer), writev(2) for several
      written = count == 1
          ? socket.sendAddress(frames[0].memoryAddress(), frames[0].readerIndex(), frames[0].writerIndex())
          : socket.writevAddresses(iov.memoryAddress(0), iov.count());
    } catch (IOException e) {
      clearPending(); // the peer is gone (reset, broken pipe): close as Netty does on a failed write
      if (closeReason == null) {
        closeReason = DisconnectReason.CONNECTION_LOST;
      }
      channel.close();
      return true;
    }
    if (written == total) {
      clearPending();
      return true;
    }
    // The socket's buffer is full: the unwritten rest, in order, to Netty's queue.
    for (int i = 0; i < count; i++) {
      ByteBuf f = frames[i];
      int len = f.readableBytes();
      if (written >= len) {
        written -= len;
      } else {
        ctx.write(f.retainedSlice(f.readerIndex() + (int) written, len - (int) written), ctx.voidPromise());
        written = 0;
      }
      frames[i] = null;
    }
    pendingCount = 0;
    return false;
  }

  /** Hands the pending frames to Netty's queue, each as its own retained duplicate. */
  private void drainPending() {
    for (int i = 0; i < pendingCount; i++) {
      ctx.write(pending[i].retainedDuplicate(), ctx.voidPromise());
      pending[i] = null;
    }
    pendingCount = 0;
  }

  private void clearPending() {
    if (pendingCount > 0) {
      Arrays.fill(pending, 0, pendingCount, null);
      pendingCount = 0;
    }
  }

  /** Writes from the handlers above (replies, pongs, close frames) go after the pending frames. */
  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
    drainPending();
    ctx.write(msg, promise);
  }

  /** Bytes queued for this socket and not yet written to it. */
  long pendingBytes() {
    var buffer = channel.unsafe().outboundBuffer();
    return buffer == null ? 0 : buffer.totalPendingWriteBytes();
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
    this.channel = ctx.channel();
    this.socket = channel instanceof UnixChannel unix && unix.fd() instanceof Socket s ? s : null;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    lastActivityNanos = System.nanoTime();
    if (msg instanceof ByteBuf bytes) {
      shard.bytesReceived += bytes.readableBytes(); // a plain field on the shard's loop, published each sweep
    }
    ctx.fireChannelRead(msg);
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    if (channel.isWritable()) {
      slowSinceNanos = 0;
    } else if (slowSinceNanos == 0) {
      slowSinceNanos = System.nanoTime();
    }
    ctx.fireChannelWritabilityChanged();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    closing = true;
    clearPending();
    shard.onClosed(this);
    ctx.fireChannelInactive();
  }
}
