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

/**
 * WebSocket frames after the upgrade: text to the protocol, pings answered, closes echoed, binary
 * refused. Fragmented messages arrive whole (the aggregator before it). One instance per shard.
 */
@ChannelHandler.Sharable
final class WebSocketHandler extends ChannelInboundHandlerAdapter {

  private final RequestHandler requests;

  WebSocketHandler(RequestHandler requests) {
    this.requests = requests;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    try {
      Connection c = Connection.of(ctx);
      if (msg instanceof TextWebSocketFrame text) {
        requests.onText(c, text.text());
      } else if (msg instanceof PingWebSocketFrame ping) {
        ctx.writeAndFlush(new PongWebSocketFrame(ping.content().retain()));
      } else if (msg instanceof PongWebSocketFrame) {
        // activity is recorded by Connection on every read
      } else if (msg instanceof CloseWebSocketFrame close) {
        c.closeEcho(close.statusCode());
      } else if (msg instanceof BinaryWebSocketFrame) {
        requests.onBinary(c);
      }
    } finally {
      ReferenceCountUtil.release(msg);
    }
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    if (cause instanceof TooLongFrameException) {
      Connection.of(ctx).close(Disconnect.TOO_BIG); // a fragmented message grew past ws.maxMessageBytes
      return;
    }
    Connection.of(ctx).onError(cause);
  }
}
