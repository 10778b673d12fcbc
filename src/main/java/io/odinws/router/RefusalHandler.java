package io.odinws.router;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.odinws.http.OpsRoutes;
import io.odinws.http.PublicEndpoints;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Answers a socket no shard could take. Probes ({@code /health}, {@code /metrics}) are still
 * served; anything else gets a plain-text status with {@code Retry-After} and is closed
 * (PROTOCOL.md section 7). The request is read first, so the client sees the answer, not a reset.
 * Only the refusals sent are counted: a probe answered on a full server is no rejection.
 */
@ChannelHandler.Sharable
final class RefusalHandler extends SimpleChannelInboundHandler<FullHttpRequest> {

  private final HttpResponseStatus status;
  private final String body;
  private final int retryAfterSeconds;
  private final PublicEndpoints endpoints;
  private final AtomicLong refused;

  /** @param refused counts each refusal sent */
  RefusalHandler(HttpResponseStatus status, String message, int retryAfterSeconds, PublicEndpoints endpoints, AtomicLong refused) {
    this.status = status;
    this.body = message + "\n";
    this.retryAfterSeconds = retryAfterSeconds;
    this.endpoints = endpoints;
    this.refused = refused;
  }

  @Override
  protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
    if (req.decoderResult().isSuccess() && OpsRoutes.handle(ctx, req, endpoints)) {
      return;
    }
    refused.incrementAndGet();
    OpsRoutes.respond(ctx, req, status, "text/plain; charset=utf-8", body, false, retryAfterSeconds);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    ctx.close();
  }
}
