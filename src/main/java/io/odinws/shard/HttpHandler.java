package io.odinws.shard;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.websocketx.WebSocketDecoderConfig;
import io.netty.handler.codec.http.websocketx.WebSocketHandshakeException;
import io.netty.handler.codec.http.websocketx.WebSocketVersion;
import io.odinws.auth.Refusal;
import io.odinws.protocol.ClientRequest;
import io.odinws.protocol.UpgradeQuery;
import io.odinws.config.WsConfig;
import io.odinws.stats.ShardStats;
import io.odinws.http.OpsRoutes;
import io.odinws.shard.admission.Admission;
import io.odinws.shard.admission.Decision;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.odinws.config.CompressionConfig;
import io.odinws.envelope.DeflateDemand;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import io.odinws.http.PublicEndpoints;


/**
 * Plain HTTP on the public port, before any upgrade: {@code GET /ws} becomes a WebSocket,
 * {@code /health} and {@code /metrics} are answered, anything else is 404. One instance per shard.
 */
@ChannelHandler.Sharable
final class HttpHandler extends SimpleChannelInboundHandler<FullHttpRequest> {

  private static final String X_FORWARDED_FOR = "X-Forwarded-For";
  private static final int MAX_KEPT_REFUSALS = 64;
  private final ShardStats stats;
  private final WebSocketHandler webSocketHandler;
  private final WsConfig ws;
  private final PublicEndpoints endpoints;
  private final WebSocketDecoderConfig decoderConfig;
  private final Admission admission;
  private final Authenticator auth;
  /** For connections that negotiated permessage-deflate: their decoder lets RSV1 through. */
  private final WebSocketDecoderConfig deflateDecoderConfig;
  /** The requests of every connection: the frame decoder asks their rate limit (see {@link OverRateFrameDecoder}). */
  private final RequestHandler requests;
  private final CompressionConfig compression;
  /** The shard's inflater, shared by its connections that negotiated permessage-deflate (and counting them). */
  private final MessageInflater inflater;
  private final UpgradeAnswer upgradeAnswer = new UpgradeAnswer();

  /**
   * Refusals as sent, encoded once per decision: a reconnect loop meets the same few over and over. The decisions are
   * few (the fixed ones and a rate refusal per {@code Retry-After} value); the map is capped all the same. The shard's
   * loop only, as the handler is.
   */
  private final Map<Decision, byte[]> refusals = new HashMap<>();

  HttpHandler(ShardStats stats, RequestHandler requests, WebSocketHandler webSocketHandler, WsConfig ws, PublicEndpoints endpoints, Admission admission,
              Authenticator auth, DeflateDemand deflateDemand) {
    this.auth = auth;
    this.compression = ws.compression() != null ? ws.compression() : CompressionConfig.OFF;
    this.inflater = new MessageInflater(ws.maxMessageBytes(), deflateDemand);
    this.stats = stats;
    this.requests = requests;
    this.webSocketHandler = webSocketHandler;
    this.ws = ws;
    this.endpoints = endpoints;
    this.admission = admission;
    this.decoderConfig = WebSocketDecoderConfig.newBuilder()
        .maxFramePayloadLength(ws.maxMessageBytes())
        .expectMaskedFrames(true)
        .allowExtensions(false)
        .closeOnProtocolViolation(false) // WebSocketHandler answers every violation with its close frame
        .build();
    // RSV1 marks a compressed message (RFC 7692 6); other RSV bits and RSV1 on control frames: WebSocketHandler's 1002
    this.deflateDecoderConfig = decoderConfig.toBuilder().allowExtensions(true).build();
  }

  @Override
  protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
    if (!req.decoderResult().isSuccess()) {
      OpsRoutes.respond(ctx, req, HttpResponseStatus.BAD_REQUEST, "text/plain", "Bad Request\n", false);
    } else if (OpsRoutes.path(req).equals(ws.path())) {
      upgrade(ctx, req);
    } else if (!OpsRoutes.handle(ctx, req, endpoints)) {
      OpsRoutes.respond(ctx, req, HttpResponseStatus.NOT_FOUND, "text/plain", "Not Found\n", true);
    }
  }

  private byte[] refusal(Decision decision) {
    byte[] answer = refusals.get(decision);
    if (answer == null) {
      answer = Connection.refusalResponse(decision, false);
      if (refusals.size() < MAX_KEPT_REFUSALS) {
        refusals.put(decision, answer);
      }
    }
    return answer;
  }

  private void upgrade(ChannelHandlerContext ctx, FullHttpRequest req) {
    // Admission before any WebSocket work: origin, resource guard, per-address sockets, per-IP and global connection rates.
    Connection connection = Connection.of(ctx);
    Decision decision = admission.check(connection.peerAddress(), forwardedFor(req), req.headers().get(HttpHeaderNames.ORIGIN),
        connection.hold());
    if (!decision.admitted()) {
      stats.handshakeFailed();
      byte[] answer = req.method() == HttpMethod.HEAD ? Connection.refusalResponse(decision, true) : refusal(decision);
      long delay = admission.refusalDelayMillis(decision, connection.hold());
      if (delay > 0) {
        connection.answerLater(delay, () -> connection.refuse(answer));
      } else {
        connection.refuse(answer);
      }
      return;
    }
    // RFC 6455 (version 13) only: no fallback to the obsolete versions (hixie-76's key parsing crashes on malformed input).
    if (!WebSocketVersion.V13.toHttpHeaderValue().equals(req.headers().get(HttpHeaderNames.SEC_WEBSOCKET_VERSION))) {
      stats.handshakeFailed();
      refuseNonHandshake(ctx, req);
      return;
    }
    ClientRequest.Subscribe subscribe;
    try {
      subscribe = UpgradeQuery.subscribe(req.uri());
    } catch (IllegalArgumentException e) {
      stats.handshakeFailed();
      badHandshake(ctx, req, e.getMessage());
      return;
    }
    // A handshake, so the token is worth verifying (a plain GET /ws with one gets its 400, not a user's slot).
    String token = auth.presented(req);
    if (token != null) {
      Refusal refusal = auth.atUpgrade(connection, token);
      if (refusal != null) {
        stats.handshakeFailed();
        refuseToken(ctx, req, refusal);
        return;
      }
    }
    String deflate = compression.enabled() ? DeflateNegotiation.answer(req.headers().getAll(HttpHeaderNames.SEC_WEBSOCKET_EXTENSIONS)) : null;
    ByteBuf answer;
    try {
      answer = upgradeAnswer.answer(ctx.alloc(), req, deflate);
    } catch (WebSocketHandshakeException e) {
      stats.handshakeFailed();
      badHandshake(ctx, req, e.getMessage());
      return;
    }
    // Netty's handshake(), without its flush: the answer goes out when this read ends, together with what the read
    // writes after it (the ack of a subscribe on the upgrade).
    connection.writeUpgradeAnswer(answer);
    // Still inside this read: the WebSocket handlers are in place before the frame decoder takes the HTTP codec's place,
    // which hands it whatever the client sent behind its request (a client that did not wait for the 101). No encoder
    // handler: Connection encodes the frames written from above.
    ChannelPipeline p = ctx.pipeline();
    p.remove(Shard.HTTP_AGGREGATOR);
    if (deflate != null) {
      // whole messages are inflated (RSV1 is on a message's first frame only); WebSocketHandler checks their UTF-8
      connection.deflateNegotiated();
      p.addBefore(ctx.name(), Fragments.AGGREGATOR, new DeflateAggregator(ws.maxMessageBytes()));
      p.addBefore(ctx.name(), "ws-inflater", inflater);
    }
    p.replace(this, "ws-handler", webSocketHandler);
    connection.onUpgraded();
    if (subscribe != null) {
      requests.onUpgrade(connection, subscribe); // its ack passes the HTTP encoder untouched (not an HTTP message)
    }
    p.replace(Shard.HTTP_CODEC, "ws-decoder", new OverRateFrameDecoder(deflate != null ? deflateDecoderConfig : decoderConfig, requests));
  }

  private void badHandshake(ChannelHandlerContext ctx, FullHttpRequest req, String problem) {
    OpsRoutes.respond(ctx, req, HttpResponseStatus.BAD_REQUEST, "text/plain; charset=utf-8",
        "Bad Request: " + problem + " (connect with a WebSocket client to " + ws.path() + ")\n", false);
  }

  /**
   * A request for the WebSocket path that is not a version 13 handshake (RFC 6455 4.2.1 and 4.2.2): with
   * another version, 426 naming the one spoken; without any (a browser or curl asking for the page), 400
   * saying how to connect.
   */
  private void refuseNonHandshake(ChannelHandlerContext ctx, FullHttpRequest req) {
    if (req.headers().contains(HttpHeaderNames.SEC_WEBSOCKET_VERSION)) {
      OpsRoutes.respond(ctx, req, HttpResponseStatus.UPGRADE_REQUIRED, "text/plain; charset=utf-8",
          "Upgrade Required: only WebSocket version 13 (RFC 6455) is supported\n", false, 0,
          Map.of(HttpHeaderNames.SEC_WEBSOCKET_VERSION, WebSocketVersion.V13.toHttpHeaderValue()));
    } else {
      OpsRoutes.respond(ctx, req, HttpResponseStatus.BAD_REQUEST, "text/plain; charset=utf-8",
          "Bad Request: not a WebSocket handshake (connect with a WebSocket client to " + ws.path() + ")\n", false);
    }
  }

  /**
   * A token on the upgrade that does not authenticate: 401 with the refusal named (RFC 6750 3.1), or
   * 429 over the per-user connection limit.
   */
  private static void refuseToken(ChannelHandlerContext ctx, FullHttpRequest req, Refusal refusal) {
    if (refusal == Refusal.USER_CONNECTION_LIMIT) {
      OpsRoutes.respond(ctx, req, HttpResponseStatus.TOO_MANY_REQUESTS, "text/plain; charset=utf-8", refusal.message() + "\n", false, 5);
    } else {
      OpsRoutes.respond(ctx, req, HttpResponseStatus.UNAUTHORIZED, "text/plain; charset=utf-8", "Unauthorized: " + refusal.message() + "\n",
          false, 0, Map.of(HttpHeaderNames.WWW_AUTHENTICATE,
              "Bearer error=\"invalid_token\", error_description=\"" + refusal.label() + "\""));
    }
  }

  /** Every X-Forwarded-For line, joined: proxies may append their own header line. */
  private static String forwardedFor(FullHttpRequest req) {
    List<String> all = req.headers().getAll(X_FORWARDED_FOR);
    return all.isEmpty() ? null : all.size() == 1 ? all.get(0) : String.join(",", all);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    Connection.of(ctx).onError(cause);
  }
}
