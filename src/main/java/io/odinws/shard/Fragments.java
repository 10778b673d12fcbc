package io.odinws.shard;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.websocketx.ContinuationWebSocketFrame;
import io.netty.handler.codec.http.websocketx.Utf8FrameValidator;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrameAggregator;

/**
 * Fragmented messages, for a connection without compression. Clients send each message in one frame, so such a
 * connection starts without a UTF-8 validator or aggregator of its own (two handlers and two contexts, about 220 bytes
 * of an idle connection's heap): {@link WebSocketHandler} checks a whole text frame's UTF-8 itself. The first fragment
 * it sees installs Netty's validator and aggregator in front of it, for that connection, for good.
 */
final class Fragments {

  static final String VALIDATOR = "ws-utf8";
  static final String AGGREGATOR = "ws-aggregator";

  private Fragments() {
  }

  /** A data frame that is part of a fragmented message (control frames are never fragmented). */
  static boolean isFragment(WebSocketFrame frame) {
    return !frame.isFinalFragment() || frame instanceof ContinuationWebSocketFrame;
  }

  /**
   * Installs the validator and aggregator before {@code ctx}'s handler and hands them {@code frame}, whose reference
   * goes with it. What they throw goes on to {@code ctx}'s handler, as Netty routes what a handler throws.
   */
  static void assemble(ChannelHandlerContext ctx, WebSocketFrame frame, int maxMessageBytes) {
    ChannelPipeline p = ctx.pipeline();
    Utf8FrameValidator validator = new Utf8FrameValidator(false);
    try {
      p.addBefore(ctx.name(), VALIDATOR, validator);
      p.addBefore(ctx.name(), AGGREGATOR, new WebSocketFrameAggregator(maxMessageBytes));
    } catch (RuntimeException e) {
      frame.release(); // not handed on: ours to release (the error closes the connection with 1011)
      throw e;
    }
    ChannelHandlerContext first = p.context(validator);
    try {
      validator.channelRead(first, frame);
    } catch (Exception e) {
      first.fireExceptionCaught(e);
    }
  }
}
