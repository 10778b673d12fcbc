package io.odinws.shard;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.odinws.ops.DisconnectReason;

import java.util.Set;

/**
 * One client socket on a shard, from accept to close, and the first handler of its pipeline. Being
 * first, its context writes straight to the socket: fan-out writes complete frames here, below the
 * WebSocket encoder, so shared bytes are never re-encoded. Every inbound read counts as activity
 * (data, ping and pong frames alike). Touched only on the shard's event loop: plain fields.
 */
final class Connection extends ChannelInboundHandlerAdapter {

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

  /** Queues a complete frame; takes ownership of {@code frame}. Flushed once per batch. */
  void writeFrame(ByteBuf frame) {
    ctx.write(frame, ctx.voidPromise());
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
    shard.onClosed(this);
    ctx.fireChannelInactive();
  }
}
