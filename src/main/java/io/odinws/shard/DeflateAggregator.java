package io.odinws.shard;

import io.netty.handler.codec.http.websocketx.ContinuationWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CorruptedWebSocketFrameException;
import io.netty.handler.codec.http.websocketx.WebSocketCloseStatus;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrameAggregator;

/**
 * The aggregator of a connection that negotiated permessage-deflate: RSV1 marks a compressed message on its first
 * frame only (RFC 7692 6.1), so a continuation frame carrying it is a protocol error (1002, answered by
 * {@link WebSocketHandler}), which the decoder, letting RSV bits through for the extension, does not check.
 */
final class DeflateAggregator extends WebSocketFrameAggregator {

  DeflateAggregator(int maxMessageBytes) {
    super(maxMessageBytes);
  }

  @Override
  protected void aggregate(WebSocketFrame aggregated, ContinuationWebSocketFrame continuation) {
    if ((continuation.rsv() & MessageInflater.RSV1) != 0) {
      throw new CorruptedWebSocketFrameException(WebSocketCloseStatus.PROTOCOL_ERROR, "RSV1 on a continuation frame");
    }
  }
}
