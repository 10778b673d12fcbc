package io.odinws.shard;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PongWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.util.ReferenceCountUtil;
import io.odinws.protocol.CloseCodes;
import io.odinws.stats.DisconnectReason;

/**
 * WebSocket frames after the upgrade: text to the protocol, pings answered, closes echoed, binary
 * refused. Fragmented messages arrive whole (the aggregator before it). One instance per shard.
 */
@ChannelHandler.Sharable
final class WebSocketHandler extends ChannelInboundHandlerAdapter {

  private final ShardVerticle shard;

  WebSocketHandler(ShardVerticle shard) {
    this.shard = shard;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    try {
      Connection c = (Connection) ctx.pipeline().first();
      if (msg instanceof TextWebSocketFrame text) {
        shard.onText(c, ctx, text.text());
      } else if (msg instanceof PingWebSocketFrame ping) {
        ctx.writeAndFlush(new PongWebSocketFrame(ping.content().retain()));
      } else if (msg instanceof PongWebSocketFrame) {
        // activity is recorded by Connection on every read
      } else if (msg instanceof CloseWebSocketFrame close) {
        shard.closeEcho(c, close.statusCode());
      } else if (msg instanceof BinaryWebSocketFrame) {
        shard.onBinary(c, ctx);
      }
    } finally {
      ReferenceCountUtil.release(msg);
    }
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    if (cause instanceof TooLongFrameException) {
      // a fragmented message grew past ws.maxMessageBytes
      shard.close((Connection) ctx.pipeline().first(), CloseCodes.TOO_BIG, "Message too big", DisconnectReason.MESSAGE_TOO_BIG);
      return;
    }
    shard.onConnectionError(ctx, cause);
  }
}
