package io.odinws.ops;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;

/**
 * {@code GET /health}, {@code /health/live}, {@code /health/ready} and {@code /metrics}: on the public
 * port, served by the shards and also by the router while every shard is full (a full server must
 * still answer its probes), and on the operations port; plus the one way plain HTTP responses are written.
 */
public final class OpsRoutes {

  private OpsRoutes() {
  }

  /** The path of a request URI, without its query string. */
  public static String path(FullHttpRequest req) {
    String uri = req.uri();
    int q = uri.indexOf('?');
    return q < 0 ? uri : uri.substring(0, q);
  }

  /** Answers {@code /health} or {@code /metrics}; false when the request is for neither. */
  public static boolean handle(ChannelHandlerContext ctx, FullHttpRequest req, PublicEndpoints endpoints) {
    if (req.method() != HttpMethod.GET && req.method() != HttpMethod.HEAD) {
      return false;
    }
    String path = path(req);
    if (path.equals("/health/live")) {
      PublicEndpoints.Health live = endpoints.live();
      respond(ctx, req, HttpResponseStatus.valueOf(live.httpStatus()), "application/json", live.json(), true);
      return true;
    }
    if (path.equals("/health/ready")) {
      // answered when the checks complete; the request is released by the caller, so keep what the reply needs
      boolean head = req.method() == HttpMethod.HEAD;
      boolean keepAlive = HttpUtil.isKeepAlive(req);
      endpoints.ready().onComplete((health, err) -> {
        PublicEndpoints.Health h = err == null ? health : new PublicEndpoints.Health(503, "{\"status\":\"DOWN\"}");
        write(ctx, head, keepAlive, HttpResponseStatus.valueOf(h.httpStatus()), "application/json", h.json(), 0);
      });
      return true;
    }
    if (path.equals("/health")) {
      PublicEndpoints.Health health = endpoints.health();
      respond(ctx, req, HttpResponseStatus.valueOf(health.httpStatus()), "application/json", health.json(), true);
      return true;
    }
    if (path.equals("/metrics")) {
      respond(ctx, req, HttpResponseStatus.OK, "text/plain; version=0.0.4; charset=utf-8", endpoints.metrics(), true);
      return true;
    }
    return false;
  }

  /** Writes a complete response; closes after it unless keep-alive is both allowed and asked for. */
  public static void respond(ChannelHandlerContext ctx, FullHttpRequest req, HttpResponseStatus status, String contentType,
                             String body, boolean keepAliveAllowed) {
    respond(ctx, req, status, contentType, body, keepAliveAllowed, 0);
  }

  /** As above, with {@code Retry-After} when {@code retryAfterSeconds > 0}. */
  public static void respond(ChannelHandlerContext ctx, FullHttpRequest req, HttpResponseStatus status, String contentType,
                             String body, boolean keepAliveAllowed, int retryAfterSeconds) {
    write(ctx, req.method() == HttpMethod.HEAD, keepAliveAllowed && HttpUtil.isKeepAlive(req), status, contentType, body, retryAfterSeconds);
  }

  private static void write(ChannelHandlerContext ctx, boolean head, boolean keepAlive, HttpResponseStatus status, String contentType,
                            String body, int retryAfterSeconds) {
    ByteBuf content = ByteBufUtil.writeUtf8(ctx.alloc(), body);
    int length = content.readableBytes();
    if (head) {
      content.clear();
    }
    FullHttpResponse res = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, content);
    res.headers().set(HttpHeaderNames.CONTENT_TYPE, contentType);
    res.headers().set(HttpHeaderNames.CONTENT_LENGTH, length);
    res.headers().set(HttpHeaderNames.CACHE_CONTROL, "no-store");
    if (retryAfterSeconds > 0) {
      res.headers().set(HttpHeaderNames.RETRY_AFTER, retryAfterSeconds);
    }
    if (!keepAlive) {
      res.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
    }
    var written = ctx.writeAndFlush(res);
    if (!keepAlive) {
      written.addListener(ChannelFutureListener.CLOSE);
    }
  }
}
