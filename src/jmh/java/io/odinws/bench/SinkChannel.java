package io.odinws.bench;

import io.netty.channel.AbstractChannel;
import io.netty.channel.ChannelConfig;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelMetadata;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.channel.DefaultChannelConfig;
import io.netty.channel.EventLoop;
import io.netty.util.ReferenceCountUtil;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;

/**
 * A Netty channel whose "socket" accepts every byte at once: the real {@link AbstractChannel} write
 * path (head context, {@code filterOutboundMessage}, size estimation, {@link ChannelOutboundBuffer}
 * entry, pending-bytes and writability accounting, flush), ending in a {@code doWrite} that does what
 * the NIO and epoll transports do after a complete write ({@code removeBytes}: release each buffer,
 * recycle its entry). Only the system call and the iovec building are left out.
 *
 * <p>With {@link #DISCARD} first in the pipeline, writes are released before they reach the channel:
 * what remains is the caller's own cost (the shard's fan-out loop).
 */
public final class SinkChannel extends AbstractChannel {

  private static final ChannelMetadata METADATA = new ChannelMetadata(false);
  /** The peer of every sink: a shard's admission reads the client's IP address before an upgrade. */
  private static final InetSocketAddress PEER = new InetSocketAddress(InetAddress.getLoopbackAddress(), 50_000);

  /** An outbound handler that releases every write and ignores flushes (put it before the handler that writes). */
  public static final ChannelHandler DISCARD = new Discard();

  private final ChannelConfig config;
  private boolean open = true;

  /** A registered, active channel with {@code handlers} in its pipeline (their handlerAdded has run). */
  public SinkChannel(InlineEventLoop loop, ChannelHandler... handlers) {
    super(null);
    config = new DefaultChannelConfig(this);
    pipeline().addLast(handlers);
    loop.register(this).syncUninterruptibly();
    loop.runTasks();
  }

  @Override
  protected AbstractUnsafe newUnsafe() {
    return new AbstractUnsafe() {
      @Override
      public void connect(SocketAddress remote, SocketAddress local, ChannelPromise promise) {
        promise.setFailure(new UnsupportedOperationException("SinkChannel does not connect"));
      }
    };
  }

  @Override
  protected void doWrite(ChannelOutboundBuffer in) {
    in.removeBytes(in.totalPendingWriteBytes()); // a complete write: every buffer released, every entry recycled
    while (in.current() != null) {
      in.remove(); // anything that was not a ByteBuf
    }
  }

  @Override
  protected boolean isCompatible(EventLoop loop) {
    return loop instanceof InlineEventLoop;
  }

  @Override
  protected SocketAddress localAddress0() {
    return null;
  }

  @Override
  protected SocketAddress remoteAddress0() {
    return PEER;
  }

  @Override
  protected void doBind(SocketAddress localAddress) {
    throw new UnsupportedOperationException("SinkChannel does not bind");
  }

  @Override
  protected void doDisconnect() {
    open = false;
  }

  @Override
  protected void doClose() {
    open = false;
  }

  @Override
  protected void doBeginRead() {
  }

  @Override
  public ChannelConfig config() {
    return config;
  }

  @Override
  public boolean isOpen() {
    return open;
  }

  @Override
  public boolean isActive() {
    return open;
  }

  @Override
  public ChannelMetadata metadata() {
    return METADATA;
  }

  @ChannelHandler.Sharable
  private static final class Discard extends ChannelOutboundHandlerAdapter {
    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
      ReferenceCountUtil.release(msg);
      promise.trySuccess(); // a no-op on the void promise the fan-out writes with
    }

    @Override
    public void flush(ChannelHandlerContext ctx) {
    }
  }
}
