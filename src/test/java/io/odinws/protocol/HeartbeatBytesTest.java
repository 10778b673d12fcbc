package io.odinws.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The heartbeat read from its bytes allocates nothing and answers as the general path does; the pong written into a
 * buffer is the JSON it says.
 */
class HeartbeatBytesTest {

  private static ByteBuf utf8(String s) {
    return Unpooled.copiedBuffer(s, StandardCharsets.UTF_8);
  }

  @Test
  void theHeartbeatAsSentIsReadWithoutBeingDecoded() {
    ByteBuf buf = Unpooled.buffer().writeBytes("xx{\"type\":\"heartbeat\"}yy".getBytes(StandardCharsets.US_ASCII));
    buf.readerIndex(2).writerIndex(buf.writerIndex() - 2);
    assertSame(ClientRequest.Heartbeat.INSTANCE, ClientRequest.parse(buf, 10));
    assertEquals(2, buf.readerIndex(), "not consumed");
  }

  @Test
  void readingTheHeartbeatAsSentAllocatesNothing() {
    var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    ByteBuf buf = utf8("{\"type\":\"heartbeat\"}");
    for (int i = 0; i < 5_000; i++) {
      ClientRequest.parse(buf, 10);
    }
    int n = 10_000;
    long before = threads.getCurrentThreadAllocatedBytes();
    for (int i = 0; i < n; i++) {
      ClientRequest.parse(buf, 10);
    }
    long perParse = (threads.getCurrentThreadAllocatedBytes() - before) / n;
    // a string and a JSON tree per heartbeat are over a kilobyte
    assertTrue(perParse < 16, perParse + " bytes allocated per heartbeat read");
  }

  @Test
  void everyOtherSpellingTakesTheGeneralPath() {
    for (String text : List.of("{ \"type\":\"heartbeat\"}", "{\"type\":\"heartbeat\",\"data\":{}}", "{\"type\":\"heartbeaT\"}",
        "{\"type\":\"heartbeat\",\"data\":1}", "{\"type\":\"heartbeat\"", "{\"tipe\":\"heartbeat\"}", "{\"type\":\"heartbea\"}",
        "{\"type\":\"subscribe\",\"data\":{\"channels\":[\"BTC.trade\"]}}", "[]", "")) {
      assertEquals(ClientRequest.parse(text, 10), ClientRequest.parse(utf8(text), 10), text);
    }
  }

  @Test
  void thePongIsTheJsonItSays() {
    for (long ts : new long[] {0, 7, 9, 10, 99, 100, 1_796_421_128_708L, Long.MAX_VALUE, -1, Long.MIN_VALUE}) {
      ByteBuf buf = Replies.pong(ByteBufAllocator.DEFAULT, ts);
      try {
        String text = buf.toString(StandardCharsets.UTF_8);
        assertEquals("{\"type\":\"pong\",\"ts\":" + ts + "}", text);
        assertEquals(new JsonObject().put("type", "pong").put("ts", ts), new JsonObject(text));
      } finally {
        buf.release();
      }
    }
  }
}
