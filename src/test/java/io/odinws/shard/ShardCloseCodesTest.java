package io.odinws.shard;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.odinws.stats.DisconnectReason;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * How a shard answers the close frames a client may send (RFC 6455 5.5.1, 7.1.5 and 7.4), and the
 * frame violations the decoder reports, on an EmbeddedChannel: every answer is exactly one close frame.
 */
class ShardCloseCodesTest {

  /** Outside 1000-1003, 1007-1014 and 3000-4999: reserved, never to be sent, or unassigned. */
  @ParameterizedTest
  @ValueSource(ints = {0, 1, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 32768, 65535})
  void aCloseWithAnInvalidCodeIsAnsweredWith1002(int code) {
    try (EmbeddedShard s = new EmbeddedShard()) {
      s.upgrade();
      s.send(new CloseWebSocketFrame(true, 0, payload(code, "bye")));
      s.channel.runPendingTasks();
      List<EmbeddedShard.Received> frames = s.received();
      assertEquals(1, frames.size(), "one close frame: " + frames);
      assertEquals(1002, EmbeddedShard.closeFrame(frames).closeCode(), "answer to close " + code);
      assertFalse(s.channel.isActive(), "closed once the answer is written");
      assertEquals(1, s.stats().disconnects(DisconnectReason.PROTOCOL_ERROR));
      assertEquals(0, s.stats().disconnects(DisconnectReason.CLIENT_CLOSE));
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 4000, 4999})
  void aCloseWithAValidCodeIsEchoed(int code) {
    try (EmbeddedShard s = new EmbeddedShard()) {
      s.upgrade();
      s.send(new CloseWebSocketFrame(true, 0, payload(code, "bye \u00e9")));
      s.channel.runPendingTasks();
      List<EmbeddedShard.Received> frames = s.received();
      assertEquals(1, frames.size(), frames.toString());
      assertEquals(code, EmbeddedShard.closeFrame(frames).closeCode());
      assertFalse(s.channel.isActive());
      assertEquals(1, s.stats().disconnects(DisconnectReason.CLIENT_CLOSE));
    }
  }

  @Test
  void anEmptyCloseIsAnsweredWithAnEmptyClose() {
    // no code reads as 1005, which no close frame may carry (RFC 6455 7.4.1): the answer has no code either
    try (EmbeddedShard s = new EmbeddedShard()) {
      s.upgrade();
      s.send(new CloseWebSocketFrame(true, 0, Unpooled.EMPTY_BUFFER));
      s.channel.runPendingTasks();
      byte[] wire = serverBytes(s);
      assertEquals("88 00", hex(wire), "one close frame with an empty payload");
      assertFalse(s.channel.isActive());
      assertEquals(1, s.stats().disconnects(DisconnectReason.CLIENT_CLOSE));
    }
  }

  @Test
  void aCloseWithAOneBytePayloadIsAProtocolError() {
    try (EmbeddedShard s = new EmbeddedShard()) {
      s.upgrade();
      s.send(new CloseWebSocketFrame(true, 0, Unpooled.wrappedBuffer(new byte[] {0x03})));
      s.channel.runPendingTasks();
      List<EmbeddedShard.Received> frames = s.received();
      assertEquals(1, frames.size(), frames.toString());
      assertEquals(1002, EmbeddedShard.closeFrame(frames).closeCode());
      assertFalse(s.channel.isActive());
      assertEquals(1, s.stats().disconnects(DisconnectReason.PROTOCOL_ERROR));
    }
  }

  @Test
  void aCloseReasonThatIsNotUtf8IsAnsweredWith1007() {
    try (EmbeddedShard s = new EmbeddedShard()) {
      s.upgrade();
      ByteBuf payload = Unpooled.buffer().writeShort(1000).writeBytes(new byte[] {'o', 'k', (byte) 0xC0, (byte) 0x80});
      s.send(new CloseWebSocketFrame(true, 0, payload));
      s.channel.runPendingTasks();
      List<EmbeddedShard.Received> frames = s.received();
      assertEquals(1, frames.size(), frames.toString());
      EmbeddedShard.Received close = EmbeddedShard.closeFrame(frames);
      assertEquals(1007, close.closeCode());
      assertEquals("bytes are not UTF-8", close.text());
      assertFalse(s.channel.isActive());
      assertEquals(1, s.stats().disconnects(DisconnectReason.PROTOCOL_ERROR));
    }
  }

  @Test
  void aTextMessageThatIsNotUtf8GetsOneCloseFrame1007() {
    try (EmbeddedShard s = new EmbeddedShard()) {
      s.upgrade();
      s.send(new TextWebSocketFrame(Unpooled.wrappedBuffer(new byte[] {'{', (byte) 0xED, (byte) 0xA0, (byte) 0x80, '}'})));
      assertEquals(1007, s.onlyCloseFrame().closeCode());
      assertFalse(s.channel.isActive());
    }
  }

  @Test
  void anUnmaskedFrameGetsOneCloseFrame1002WithTheDecodersReason() {
    try (EmbeddedShard s = new EmbeddedShard()) {
      s.upgrade();
      byte[] heartbeat = "{\"type\":\"heartbeat\"}".getBytes(StandardCharsets.UTF_8);
      ByteBuf unmasked = Unpooled.buffer().writeByte(0x81).writeByte(heartbeat.length).writeBytes(heartbeat);
      s.channel.writeInbound(unmasked);
      EmbeddedShard.Received close = s.onlyCloseFrame();
      assertEquals(1002, close.closeCode());
      assertTrue(close.text().contains("masked"), close.text());
      assertFalse(s.channel.isActive());
      assertEquals(1, s.stats().disconnects(DisconnectReason.PROTOCOL_ERROR));
    }
  }

  @Test
  void aFrameOverTheSizeLimitGetsOneCloseFrame1009() {
    try (EmbeddedShard s = new EmbeddedShard()) {
      s.upgrade();
      s.sendText(" ".repeat(65_537));
      EmbeddedShard.Received close = s.onlyCloseFrame();
      assertEquals(1009, close.closeCode());
      assertEquals("Max frame length of 65536 has been exceeded.", close.text());
      assertEquals(1, s.stats().disconnects(DisconnectReason.MESSAGE_TOO_BIG));
    }
  }

  /** A close payload with any code, valid or not (Netty's own constructor refuses invalid ones). */
  private static ByteBuf payload(int code, String reason) {
    return Unpooled.buffer().writeShort(code).writeBytes(reason.getBytes(StandardCharsets.UTF_8));
  }

  /** The raw bytes the server wrote since the last read. */
  private static byte[] serverBytes(EmbeddedShard s) {
    ByteBuf all = Unpooled.buffer();
    try {
      for (Object o; (o = s.channel.readOutbound()) != null; ) {
        ByteBuf b = (ByteBuf) o;
        all.writeBytes(b);
        b.release();
      }
      byte[] bytes = new byte[all.readableBytes()];
      all.readBytes(bytes);
      return bytes;
    } finally {
      all.release();
    }
  }

  private static String hex(byte[] bytes) {
    StringBuilder sb = new StringBuilder();
    for (byte b : bytes) {
      sb.append(sb.length() == 0 ? "" : " ").append(String.format("%02x", b & 0xFF));
    }
    return sb.toString();
  }
}
