package io.odinws.shard;

import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CorruptedWebSocketFrameException;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PongWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketCloseStatus;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.util.CharsetUtil;
import io.netty.util.ReferenceCountUtil;
import io.odinws.protocol.CloseCodes;
import io.odinws.stats.DisconnectReason;

import java.nio.charset.StandardCharsets;

/**
 * WebSocket frames after the upgrade: data messages through the inbound rate limit, then text to the protocol
 * and binary refused; pings answered, closes echoed, protocol violations answered with their close code, admitted
 * text that is not UTF-8 with 1007. Fragmented messages
 * arrive whole: the first fragment installs an aggregator before it (see {@link Fragments}). One instance per shard.
 *
 * <p>Netty's decoder and UTF-8 validator only report violations here (closeOnProtocolViolation is
 * off): after a close frame the decoder would answer one with an empty write instead of a close frame,
 * and it lets close codes above 4999 through. So every violation gets its close frame from this class.
 */
@ChannelHandler.Sharable
final class WebSocketHandler extends ChannelInboundHandlerAdapter {

  /** A close frame's payload is at most 125 bytes, two of them the code. */
  private static final int MAX_REASON_BYTES = 123;

  private final RequestHandler requests;
  private final int maxMessageBytes;

  WebSocketHandler(RequestHandler requests, int maxMessageBytes) {
    this.requests = requests;
    this.maxMessageBytes = maxMessageBytes;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (msg instanceof WebSocketFrame fragment && Fragments.isFragment(fragment) && !Connection.of(ctx).isClosing()) {
      Fragments.assemble(ctx, fragment, maxMessageBytes); // the frame goes with it
      return;
    }
    try {
      Connection c = Connection.of(ctx);
      if (c.isClosing() && !(msg instanceof CloseWebSocketFrame)) {
        return; // closing (flooding, slow, too big...): what the client still sends is not worth reading
      }
      if (msg instanceof WebSocketFrame frame && frame.rsv() != 0) {
        // what a negotiated extension's decoder lets through but does not use: RSV2, RSV3, RSV1 on a control frame
        c.close(new Disconnect(CloseCodes.PROTOCOL_ERROR, "RSV bits set without a negotiated extension for them",
            DisconnectReason.PROTOCOL_ERROR));
      } else if (msg instanceof TextWebSocketFrame text) {
        // The rate limit first: a message it drops is never read, so it is not validated either, and a flood's
        // dropped messages cost no UTF-8 check.
        if (requests.admit(c)) {
          if (ByteBufUtil.isText(text.content(), CharsetUtil.UTF_8)) { // a whole message (see Fragments)
            requests.onText(c, text);
          } else {
            c.close(answer(new CorruptedWebSocketFrameException(WebSocketCloseStatus.INVALID_PAYLOAD_DATA, "bytes are not UTF-8")));
          }
        }
      } else if (msg instanceof PingWebSocketFrame ping) {
        ctx.writeAndFlush(new PongWebSocketFrame(ping.content().retain()));
      } else if (msg instanceof PongWebSocketFrame) {
        // activity is recorded by Connection on every read
      } else if (msg instanceof CloseWebSocketFrame close) {
        int code = close.statusCode(); // -1: no code (the decoder refused a 1-byte payload and a reason that is not UTF-8)
        if (code == -1 || CloseCodes.isValidInCloseFrame(code)) {
          c.closeEcho(code);
        } else {
          c.close(new Disconnect(CloseCodes.PROTOCOL_ERROR, "Invalid close code " + code, DisconnectReason.PROTOCOL_ERROR));
        }
      } else if (msg instanceof BinaryWebSocketFrame && requests.admit(c)) {
        requests.onBinary(c);
      }
    } finally {
      ReferenceCountUtil.release(msg);
    }
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    if (cause instanceof CorruptedWebSocketFrameException violation) {
      Connection.of(ctx).close(answer(violation));
      return;
    }
    if (cause instanceof TooLongFrameException) {
      Connection.of(ctx).close(Disconnect.TOO_BIG); // a fragmented message grew past ws.maxMessageBytes
      return;
    }
    Connection.of(ctx).onError(cause);
  }

  /** The close frame for a violation the decoder or the UTF-8 validator found, with their reason text. */
  private static Disconnect answer(CorruptedWebSocketFrameException violation) {
    WebSocketCloseStatus status = violation.closeStatus();
    String reason = violation.getMessage() != null ? violation.getMessage() : status.reasonText();
    if (reason.getBytes(StandardCharsets.UTF_8).length > MAX_REASON_BYTES) {
      reason = status.reasonText(); // a close frame's payload is at most 125 bytes
    }
    return new Disconnect(status.code(), reason,
        status.code() == CloseCodes.TOO_BIG ? DisconnectReason.MESSAGE_TOO_BIG : DisconnectReason.PROTOCOL_ERROR);
  }
}
