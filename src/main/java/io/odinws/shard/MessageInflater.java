package io.odinws.shard;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.odinws.envelope.DeflateDemand;
import io.odinws.protocol.CloseCodes;
import io.odinws.stats.DisconnectReason;

import java.util.Arrays;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * Inflates the compressed messages of connections that negotiated permessage-deflate (RFC 7692 7.2.2), after the
 * aggregator (whole messages: RSV1 is on a message's first frame only) and before the UTF-8 validator. With
 * {@code client_no_context_takeover} no message depends on the one before, so one Inflater per shard serves every
 * connection and a connection keeps nothing between messages. The inflated size is bounded by
 * {@code ws.maxMessageBytes}: beyond it the connection closes with 1009 before inflating further. One instance per
 * shard, on its loop only.
 */
@ChannelHandler.Sharable
final class MessageInflater extends ChannelInboundHandlerAdapter {

  static final int RSV1 = 0x4;
  private static final byte[] SYNC_TAIL = {0, 0, (byte) 0xFF, (byte) 0xFF};
  private static final Disconnect INVALID = new Disconnect(CloseCodes.INVALID_PAYLOAD, "Invalid compressed data",
      DisconnectReason.PROTOCOL_ERROR);

  private final int maxBytes;
  /** Counts the connections this handler is in: every one of them negotiated permessage-deflate. */
  private final DeflateDemand demand;
  private final Inflater inflater = new Inflater(true);
  /** The compressed message and the tail 7692 removes; grown to the largest seen (at most ws.maxMessageBytes + 4). */
  private byte[] in = new byte[1024];
  /** Inflated bytes, one more than allowed so that an overflow shows; allocated at the first compressed message. */
  private byte[] out;

  MessageInflater(int maxBytes, DeflateDemand demand) {
    this.maxBytes = maxBytes;
    this.demand = demand;
  }

  /** Added to a pipeline at the upgrade of a connection that negotiated the extension. */
  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    demand.opened();
  }

  /** Removed when its connection's pipeline is torn down: Netty pairs it with {@link #handlerAdded}. */
  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    demand.closed();
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (!(msg instanceof WebSocketFrame frame) || (frame.rsv() & RSV1) == 0
        || !(msg instanceof TextWebSocketFrame) && !(msg instanceof BinaryWebSocketFrame)) {
      ctx.fireChannelRead(msg); // uncompressed, or a control frame (RSV1 there: WebSocketHandler answers 1002)
      return;
    }
    Connection c = Connection.of(ctx);
    ByteBuf inflated;
    try {
      if (c.isClosing() || msg instanceof BinaryWebSocketFrame) {
        // binary is refused unread; a closing connection's messages are not read either
        ctx.fireChannelRead(new BinaryWebSocketFrame(true, frame.rsv() & ~RSV1, Unpooled.EMPTY_BUFFER));
        return;
      }
      int n = inflate(frame.content());
      if (n < 0) {
        c.close(Disconnect.TOO_BIG);
        return;
      }
      inflated = ctx.alloc().heapBuffer(n, n).writeBytes(out, 0, n);
    } catch (DataFormatException e) {
      c.close(INVALID);
      return;
    } finally {
      frame.release();
    }
    ctx.fireChannelRead(new TextWebSocketFrame(true, frame.rsv() & ~RSV1, inflated));
  }

  /** @return the inflated length, in {@link #out}; -1 when it exceeds {@link #maxBytes} */
  private int inflate(ByteBuf compressed) throws DataFormatException {
    int len = compressed.readableBytes();
    if (in.length < len + SYNC_TAIL.length) {
      in = Arrays.copyOf(in, Math.max(in.length * 2, len + SYNC_TAIL.length));
    }
    compressed.getBytes(compressed.readerIndex(), in, 0, len);
    System.arraycopy(SYNC_TAIL, 0, in, len, SYNC_TAIL.length);
    if (out == null) {
      out = new byte[maxBytes + 1];
    }
    inflater.reset();
    inflater.setInput(in, 0, len + SYNC_TAIL.length);
    int n = 0;
    while (n < out.length) {
      int k = inflater.inflate(out, n, out.length - n);
      n += k;
      if (k == 0) {
        if (inflater.needsDictionary()) {
          throw new DataFormatException("preset dictionary");
        }
        break; // input consumed (needsInput) or the final block ended (finished)
      }
    }
    return n > maxBytes ? -1 : n;
  }
}
