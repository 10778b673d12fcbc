package io.odinws.shard;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.websocketx.Utf8FrameValidator;
import io.netty.handler.codec.http.websocketx.WebSocketDecoderConfig;
import io.netty.handler.codec.http.websocketx.WebSocketFrameAggregator;
import io.netty.handler.codec.http.websocketx.WebSocketHandshakeException;
import io.netty.handler.codec.http.websocketx.WebSocketServerHandshaker;
import io.netty.handler.codec.http.websocketx.WebSocketServerHandshakerFactory;
import io.odinws.config.WsConfig;
import io.odinws.ops.PublicEndpoints;

import java.nio.charset.StandardCharsets;

/**
 * Plain HTTP on the public port, before any upgrade: {@code GET /ws} becomes a WebSocket,
 * {@code /health} and {@code /metrics} are answered, anything else is 404. One instance per shard.
 */
@ChannelHandler.Sharable
final class HttpHandler extends SimpleChannelInboundHandler<FullHttpRequest> {

  private final ShardVerticle shard;
  private final WsConfig ws;
  private final PublicEndpoints endpoints;
  private final WebSocketServerHandshakerFactory handshakers;

  HttpHandler(ShardVerticle shard, WsConfig ws, PublicEndpoints endpoints) {
    this.shard = shard;
    this.ws = ws;
    this.endpoints = endpoints;
    WebSocketDecoderConfig decoder = WebSocketDecoderConfig.newBuilder()
        .maxFramePayloadLength(ws.maxMessageBytes())
        .expectMaskedFrames(true)
        .allowExtensions(false)
        .closeOnProtocolViolation(true)
        .build();
    // The URL only matters for the obsolete hixie-76 handshake, which is not offered.
    this.handshakers = new WebSocketServerHandshakerFactory("ws://localhost" + ws.path(), null, decoder);
  }

  @Override
  protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
    if (!req.decoderResult().isSuccess()) {
      respond(ctx, req, HttpResponseStatus.BAD_REQUEST, "text/plain", "Bad Request\n", false);
      return;
    }
    String uri = req.uri();
    int q = uri.indexOf('?');
    String path = q < 0 ? uri : uri.substring(0, q);
    if (path.equals(ws.path())) {
      upgrade(ctx, req);
    } else if (req.method() != HttpMethod.GET && req.method() != HttpMethod.HEAD) {
      respond(ctx, req, HttpResponseStatus.METHOD_NOT_ALLOWED, "text/plain", "Method Not Allowed\n", true);
    } else if (path.equals("/health")) {
      PublicEndpoints.Health health = endpoints.health();
      respond(ctx, req, health.httpStatus() == 200 ? HttpResponseStatus.OK : HttpResponseStatus.SERVICE_UNAVAILABLE,
          "application/json", health.json(), true);
    } else if (path.equals("/metrics")) {
      respond(ctx, req, HttpResponseStatus.OK, "text/plain; version=0.0.4; charset=utf-8", endpoints.metrics(), true);
    } else {
      respond(ctx, req, HttpResponseStatus.NOT_FOUND, "text/plain", "Not Found\n", true);
    }
  }

  private void upgrade(ChannelHandlerContext ctx, FullHttpRequest req) {
    WebSocketServerHandshaker handshaker = handshakers.newHandshaker(req);
    if (handshaker == null) {
      WebSocketServerHandshakerFactory.sendUnsupportedVersionResponse(ctx.channel()).addListener(ChannelFutureListener.CLOSE);
      return;
    }
    Connection connection = (Connection) ctx.pipeline().first();
    try {
      handshaker.handshake(ctx.channel(), req).addListener(f -> {
        if (f.isSuccess()) {
          shard.onUpgraded(connection);
        } else {
          ctx.close();
        }
      });
    } catch (WebSocketHandshakeException e) {
      respond(ctx, req, HttpResponseStatus.BAD_REQUEST, "text/plain",
          "Bad Request: " + e.getMessage() + " (connect with a WebSocket client to " + ws.path() + ")\n", false);
      return;
    }
    // Still inside this read: no frame can arrive before the WebSocket handlers are in place.
    ChannelPipeline p = ctx.pipeline();
    p.addBefore(ctx.name(), "ws-utf8", new Utf8FrameValidator(true));
    p.addBefore(ctx.name(), "ws-aggregator", new WebSocketFrameAggregator(ws.maxMessageBytes()));
    p.replace(this, "ws-handler", shard.webSocketHandler());
  }

  static void respond(ChannelHandlerContext ctx, FullHttpRequest req, HttpResponseStatus status, String contentType,
                      String body, boolean keepAliveAllowed) {
    ByteBuf content = req.method() == HttpMethod.HEAD
        ? ctx.alloc().buffer(0)
        : ByteBufUtil.writeUtf8(ctx.alloc(), body);
    FullHttpResponse res = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, content);
    res.headers().set(HttpHeaderNames.CONTENT_TYPE, contentType);
    res.headers().set(HttpHeaderNames.CONTENT_LENGTH, body.getBytes(StandardCharsets.UTF_8).length);
    res.headers().set(HttpHeaderNames.CACHE_CONTROL, "no-store");
    boolean keepAlive = keepAliveAllowed && HttpUtil.isKeepAlive(req);
    if (!keepAlive) {
      res.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
    }
    var f = ctx.writeAndFlush(res);
    if (!keepAlive) {
      f.addListener(ChannelFutureListener.CLOSE);
    }
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    shard.onConnectionError(ctx, cause);
  }
}
