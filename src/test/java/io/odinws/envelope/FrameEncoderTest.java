package io.odinws.envelope;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FrameEncoderTest {

  private final FrameEncoder encoder = new FrameEncoder(UnpooledByteBufAllocator.DEFAULT);

  @Test
  void encodesTheEnvelopeAsOneCompleteUnmaskedTextFrame() {
    byte[] value = "{\"type\":\"TRADE_EXECUTED\",\"timestamp\":1732000000450,\"data\":{\"price\":42.17}}".getBytes(StandardCharsets.UTF_8);
    ByteBuf frame = encoder.encodeLive("BTC.trade".getBytes(StandardCharsets.UTF_8), 3, 1042, 1732000000456L, value);
    try {
      assertEquals(0x81, frame.getUnsignedByte(0), "FIN + text");
      int len = frame.getUnsignedByte(1);
      assertEquals(126, len, "payload over 125 bytes uses the 16-bit length");
      int payloadLen = frame.getUnsignedShort(2);
      assertEquals(frame.readableBytes() - 4, payloadLen);
      String payload = frame.toString(4, payloadLen, StandardCharsets.UTF_8);
      assertEquals("{\"seq\":1042,\"ts\":1732000000456,\"type\":\"price:update\",\"priority\":1,\"channel\":\"BTC.trade\",\"pos\":\"3:1042\",\"data\":"
          + new String(value, StandardCharsets.UTF_8) + "}", payload);
      JsonObject json = new JsonObject(payload);
      assertEquals(42.17, json.getJsonObject("data").getJsonObject("data").getDouble("price"));
    } finally {
      frame.release();
    }
  }

  @Test
  void usesTheRightLengthFormAtEveryBoundary() {
    for (int valueLen : new int[] {1, 40, 200, 65_000, 70_000}) {
      byte[] value = new byte[valueLen];
      java.util.Arrays.fill(value, (byte) '1'); // a JSON number of valueLen digits
      ByteBuf frame = encoder.encodeLive("X.t".getBytes(StandardCharsets.UTF_8), 0, 0, 0, value);
      try {
        int b1 = frame.getUnsignedByte(1);
        long payloadLen;
        int header;
        if (b1 < 126) {
          payloadLen = b1;
          header = 2;
        } else if (b1 == 126) {
          payloadLen = frame.getUnsignedShort(2);
          header = 4;
          assertTrue(payloadLen >= 126);
        } else {
          payloadLen = frame.getLong(2);
          header = 10;
          assertTrue(payloadLen > 0xFFFF);
        }
        assertEquals(frame.readableBytes() - header, payloadLen, "value length " + valueLen);
        assertEquals(frame.capacity(), frame.readableBytes(), "exactly sized");
      } finally {
        frame.release();
      }
    }
  }

  @Test
  void validatesKeysAndValues() {
    assertEquals(SkipReason.EMPTY_KEY, RecordValidator.checkKey(null));
    assertEquals(SkipReason.EMPTY_KEY, RecordValidator.checkKey(new byte[0]));
    assertEquals(SkipReason.INVALID_KEY, RecordValidator.checkKey("A B".getBytes(StandardCharsets.UTF_8)));
    assertEquals(SkipReason.INVALID_KEY, RecordValidator.checkKey("A\"B".getBytes(StandardCharsets.UTF_8)));
    assertEquals(SkipReason.INVALID_KEY, RecordValidator.checkKey(new byte[129]));
    assertNull(RecordValidator.checkKey("BTC".getBytes(StandardCharsets.UTF_8)));
    assertEquals("ÉTH", RecordValidator.token("ÉTH".getBytes(StandardCharsets.UTF_8)));
    assertNull(RecordValidator.token(new byte[] {(byte) 0xC3}), "malformed UTF-8");
    assertNull(RecordValidator.token("A\u00A0B".getBytes(StandardCharsets.UTF_8)), "Unicode space");

    assertTrue(RecordValidator.isJson("{\"a\":[1,2,{\"b\":null}]}".getBytes(StandardCharsets.UTF_8)));
    assertTrue(RecordValidator.isJson("42".getBytes(StandardCharsets.UTF_8)));
    assertFalse(RecordValidator.isJson("{\"a\":".getBytes(StandardCharsets.UTF_8)));
    assertFalse(RecordValidator.isJson("{} {}".getBytes(StandardCharsets.UTF_8)), "one value only");
    assertFalse(RecordValidator.isJson(new byte[0]));
    assertFalse(RecordValidator.isJson(null));
  }

  @Test
  void aReplayFrameDiffersFromTheLiveOneOnlyInTypeAndPriority() {
    for (int valueLen : new int[] {10, 120, 70_000}) {
      byte[] value = new byte[valueLen];
      java.util.Arrays.fill(value, (byte) 'a'); // a JSON string of valueLen - 2 letters
      value[0] = '"';
      value[valueLen - 1] = '"';
      ByteBuf live = encoder.encodeLive("ETH.trade".getBytes(StandardCharsets.UTF_8), 5, 77, 1000, value);
      ByteBuf replay = encoder.replayOf(live);
      ByteBuf direct = encoder.encodeReplay("ETH.trade".getBytes(StandardCharsets.UTF_8), 5, 77, 1000, value);
      try {
        assertEquals(direct, replay, "replayOf(live) equals encodeReplay for value length " + valueLen);
        JsonObject a = new JsonObject(payload(live));
        JsonObject b = new JsonObject(payload(replay));
        assertEquals("replay:message", b.getString("type"));
        assertEquals(2, b.getInteger("priority"));
        a.remove("type");
        a.remove("priority");
        b.remove("type");
        b.remove("priority");
        assertEquals(a, b);
        assertEquals(1, live.refCnt(), "the live frame is untouched");
      } finally {
        live.release();
        replay.release();
        direct.release();
      }
    }
  }

  @Test
  void aSnapshotFrameOfALiveOrReplayFrameDiffersOnlyInTypeAndPriority() {
    for (int valueLen : new int[] {10, 120, 70_000}) {
      byte[] value = new byte[valueLen];
      java.util.Arrays.fill(value, (byte) 'a');
      value[0] = '"';
      value[valueLen - 1] = '"';
      ByteBuf live = encoder.encodeLive("ETH.trade".getBytes(StandardCharsets.UTF_8), 5, 77, 1000, value);
      ByteBuf replay = encoder.encodeReplay("ETH.trade".getBytes(StandardCharsets.UTF_8), 5, 77, 1000, value);
      ByteBuf fromLive = encoder.snapshotOf(live);
      ByteBuf fromReplay = encoder.snapshotOf(replay);
      try {
        assertEquals(fromLive, fromReplay, "the same snapshot frame from either, value length " + valueLen);
        JsonObject a = new JsonObject(payload(live));
        JsonObject b = new JsonObject(payload(fromLive));
        assertEquals("snapshot:message", b.getString("type"));
        assertEquals(2, b.getInteger("priority"));
        a.remove("type");
        a.remove("priority");
        b.remove("type");
        b.remove("priority");
        assertEquals(a, b);
        assertEquals(1, live.refCnt(), "the live frame is untouched");
      } finally {
        live.release();
        replay.release();
        fromLive.release();
        fromReplay.release();
      }
    }
  }

  private static String payload(ByteBuf frame) {
    int b1 = frame.getUnsignedByte(1);
    int header = b1 < 126 ? 2 : b1 == 126 ? 4 : 10;
    return frame.toString(header, frame.readableBytes() - header, StandardCharsets.UTF_8);
  }
}
