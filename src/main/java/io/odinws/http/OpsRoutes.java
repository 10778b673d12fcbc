package io.odinws.http;

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

import java.util.Map;

/**
 * Plain HTTP on the public port, which is raw Netty: the {@link OpsEndpoint}s, served by the shards and
 * also by the router while every shard is full (a full server must still answer its probes), and the
 * one way its plain HTTP responses are written.
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

  /**
   * Answers a GET or HEAD of an {@link OpsEndpoint}, and an OPTIONS (a CORS preflight) of one with CORS;
   * false when the request is for none.
   */
  public static boolean handle(ChannelHandlerContext ctx, FullHttpRequest req, PublicEndpoints endpoints) {
    OpsEndpoint endpoint = OpsEndpoint.at(path(req));
    if (endpoint == null) {
      return false;
    }
    boolean keepAlive = HttpUtil.isKeepAlive(req);
    if (req.method() == HttpMethod.OPTIONS && endpoint.cors()) {
      write(ctx, false, keepAlive, HttpResponseStatus.OK, null, "", 0, endpoint.optionsHeaders());
      return true;
    }
    if (req.method() != HttpMethod.GET && req.method() != HttpMethod.HEAD) {
      return false;
    }
    // readiness answers when its checks complete, after the caller has released the request: keep what the reply needs
    boolean head = req.method() == HttpMethod.HEAD;
    endpoint.reply(endpoints).onSuccess(r ->
        write(ctx, head, keepAlive, HttpResponseStatus.valueOf(r.status()), r.contentType(), r.body(), 0, endpoint.headers()));
    return true;
  }

  /** Writes a complete response; closes after it unless keep-alive is both allowed and asked for. */
  public static void respond(ChannelHandlerContext ctx, FullHttpRequest req, HttpResponseStatus status, String contentType,
                             String body, boolean keepAliveAllowed) {
    respond(ctx, req, status, contentType, body, keepAliveAllowed, 0);
  }

  /** As above, with {@code Retry-After} when {@code retryAfterSeconds > 0}. */
  public static void respond(ChannelHandlerContext ctx, FullHttpRequest req, HttpResponseStatus status, String contentType,
                             String body, boolean keepAliveAllowed, int retryAfterSeconds) {
    respond(ctx, req, status, contentType, body, keepAliveAllowed, retryAfterSeconds, Map.of());
  }

  /** As above, with {@code headers} added. */
  public static void respond(ChannelHandlerContext ctx, FullHttpRequest req, HttpResponseStatus status, String contentType,
                             String body, boolean keepAliveAllowed, int retryAfterSeconds, Map<? extends CharSequence, String> headers) {
    write(ctx, req.method() == HttpMethod.HEAD, keepAliveAllowed && HttpUtil.isKeepAlive(req), status, contentType, body,
        retryAfterSeconds, headers);
  }

  /** @param contentType null for none (an empty answer) */
  private static void write(ChannelHandlerContext ctx, boolean head, boolean keepAlive, HttpResponseStatus status, String contentType,
                            String body, int retryAfterSeconds, Map<? extends CharSequence, String> headers) {
    ByteBuf content = ByteBufUtil.writeUtf8(ctx.alloc(), body);
    int length = content.readableBytes();
    if (head) {
      content.clear();
    }
    FullHttpResponse res = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, content);
    if (contentType != null) {
      res.headers().set(HttpHeaderNames.CONTENT_TYPE, contentType);
    }
    res.headers().set(HttpHeaderNames.CONTENT_LENGTH, length);
    res.headers().set(HttpHeaderNames.CACHE_CONTROL, "no-store");
    if (retryAfterSeconds > 0) {
      res.headers().set(HttpHeaderNames.RETRY_AFTER, retryAfterSeconds);
    }
    headers.forEach((name, value) -> res.headers().set(name, value));
    if (!keepAlive) {
      res.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
    }
    var written = ctx.writeAndFlush(res);
    if (!keepAlive) {
      written.addListener(ChannelFutureListener.CLOSE);
    }
  }
}
