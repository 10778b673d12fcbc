package io.odinws.shard;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.ContinuationWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocket13FrameDecoder;
import io.netty.handler.codec.http.websocketx.WebSocketDecoderConfig;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;

import java.util.List;

/**
 * Netty's frame decoder, except that a whole message the inbound rate limit would drop is skipped where it lies in
 * the read buffer: not unmasked, not copied into a buffer of its own, not passed down the pipeline. A flood's
 * dropped messages then cost the read and a look at their headers. The answers are those of a decoded message
 * that {@link RequestHandler} drops: the same counting, the same {@code RATE_LIMIT_EXCEEDED} at most once a second,
 * the same flood detector. One instance per connection, created by its handshake, on its loop.
 *
 * <p>Skipped only: an unfragmented text or binary frame, masked, RSV bits clear (a compressed message stays with
 * the inflater, whose window it feeds), within the size limit, wholly in the buffer, read where Netty's decoder
 * would start a new frame, outside a fragmented message, and only while the bucket has no token. Anything else,
 * violations included, goes to Netty's decoder, which keeps answering it.
 */
final class OverRateFrameDecoder extends WebSocket13FrameDecoder {

  /** The shortest masked frame: two header bytes and the masking key. */
  private static final int MIN_MASKED_HEADER = 6;

  private final RequestHandler requests;
  private final long maxPayload;
  private Connection connection;
  /** Netty's decoder is between frames: it has consumed nothing of the next one yet. */
  private boolean atFrameStart = true;
  /** Between a fragmented message's first frame and its last. */
  private boolean inFragmentedMessage;

  OverRateFrameDecoder(WebSocketDecoderConfig config, RequestHandler requests) {
    super(config);
    this.requests = requests;
    this.maxPayload = config.maxFramePayloadLength();
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) throws Exception {
    super.handlerAdded(ctx);
    connection = Connection.of(ctx);
  }

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) throws Exception {
    if (atFrameStart && !inFragmentedMessage && skipDropped(in)) {
      return; // consumed, nothing out: ByteToMessageDecoder calls again for what follows
    }
    int readerIndex = in.readerIndex();
    int outBefore = out.size();
    super.decode(ctx, in, out);
    if (out.size() > outBefore) {
      atFrameStart = true; // a frame out: Netty's decoder starts the next one afresh
      for (int i = outBefore; i < out.size(); i++) {
        Object frame = out.get(i);
        if (frame instanceof ContinuationWebSocketFrame last) {
          inFragmentedMessage &= !last.isFinalFragment();
        } else if (frame instanceof TextWebSocketFrame || frame instanceof BinaryWebSocketFrame) {
          inFragmentedMessage = !((WebSocketFrame) frame).isFinalFragment();
        }
      }
    } else if (in.readerIndex() != readerIndex) {
      atFrameStart = false; // part of a frame consumed (its header), the rest still to come
    }
  }

  /** Skips the frame at the reader index if it is a whole message the rate limit drops; false leaves {@code in} as it was. */
  private boolean skipDropped(ByteBuf in) {
    int readable = in.readableBytes();
    if (readable < MIN_MASKED_HEADER || connection == null || connection.isClosing()) {
      return false;
    }
    int at = in.readerIndex();
    int b0 = in.getUnsignedByte(at);
    int b1 = in.getUnsignedByte(at + 1);
    int opcode = b0 & 0x0F;
    // FIN set and RSV clear (0x80 in the high nibble), text or binary, masked
    if ((b0 & 0xF0) != 0x80 || (opcode != 0x1 && opcode != 0x2) || (b1 & 0x80) == 0) {
      return false;
    }
    int len7 = b1 & 0x7F;
    int header;
    long length;
    if (len7 < 126) {
      header = MIN_MASKED_HEADER;
      length = len7;
    } else {
      // 126: a 16-bit length follows, 127: a 64-bit one; each only for lengths the shorter form cannot hold
      boolean medium = len7 == 126;
      header = MIN_MASKED_HEADER + (medium ? 2 : 8);
      if (readable < header) {
        return false;
      }
      length = medium ? in.getUnsignedShort(at + 2) : in.getLong(at + 2);
      if (length < (medium ? 126 : 65536)) {
        return false; // negative or not minimal: Netty's decoder answers it
      }
    }
    if (length > maxPayload || readable - header < length || !requests.dropUnread(connection)) {
      return false;
    }
    in.skipBytes(header + (int) length);
    return true;
  }
}
