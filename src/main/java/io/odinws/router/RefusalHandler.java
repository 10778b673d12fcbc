package io.odinws.router;

import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;

/**
 * Answers a refused socket's request with a plain-text status, {@code Retry-After} and
 * {@code Connection: close} (PROTOCOL.md section 7), reading the request first so the client sees
 * the answer rather than a reset.
 */
@ChannelHandler.Sharable
final class RefusalHandler extends SimpleChannelInboundHandler<HttpRequest> {

  private final HttpResponseStatus status;
  private final String body;
  private final int retryAfterSeconds;

  RefusalHandler(HttpResponseStatus status, String message, int retryAfterSeconds) {
    this.status = status;
    this.body = message + "\n";
    this.retryAfterSeconds = retryAfterSeconds;
  }

  @Override
  protected void channelRead0(ChannelHandlerContext ctx, HttpRequest req) {
    FullHttpResponse res = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, ByteBufUtil.writeUtf8(ctx.alloc(), body));
    res.headers()
        .set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8")
        .set(HttpHeaderNames.CONTENT_LENGTH, res.content().readableBytes())
        .set(HttpHeaderNames.RETRY_AFTER, retryAfterSeconds)
        .set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
    ctx.writeAndFlush(res).addListener(ChannelFutureListener.CLOSE);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    ctx.close();
  }
}
