package io.odinws.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The subscription ack is written by hand: byte for byte what JsonObject.encode wrote for it, hostile names included. */
class SubscriptionAckTest {

  private static final String[] NAMES = {"BTC.trade", "*.trade", "a\"b", "back\\slash", "tab\there", "nl\nx", "cr\rx", "\b\f",
      "\u0000\u0001\u001f\u007f", "é漢字😀", "\ud800", "", "</script>", "a/b"};

  @Test
  void sameTextAsTheJsonObjectEncodingForEveryShape() {
    Random rnd = new Random(17);
    for (int round = 0; round < 2000; round++) {
      List<String> subscribed = pick(rnd, rnd.nextInt(4));
      List<Replies.Rejected> rejected = new ArrayList<>();
      for (String c : pick(rnd, rnd.nextInt(3))) {
        rejected.add(new Replies.Rejected(c, NAMES[rnd.nextInt(NAMES.length)]));
      }
      Map<String, Position> positions = new HashMap<>();
      for (String c : subscribed) {
        if (rnd.nextBoolean()) {
          positions.put(c, new Position(rnd.nextInt(12), rnd.nextInt(100000) - 1));
        }
      }
      int count = rnd.nextInt(100);
      ByteBuf ack = Replies.subscriptionAck(UnpooledByteBufAllocator.DEFAULT, subscribed, rejected, count, positions::get);
      try {
        assertEquals(reference(subscribed, rejected, count, positions), ack.toString(StandardCharsets.UTF_8));
      } finally {
        ack.release();
      }
    }
  }

  @Test
  void numbersWrittenWithoutAString() {
    for (long v : new long[] {0, 7, 9, 10, 99, 100, 12345, Integer.MAX_VALUE, Long.MAX_VALUE, -1, Long.MIN_VALUE}) {
      ByteBuf b = Unpooled.buffer(1); // grows: the digits are not counted on a buffer's capacity
      try {
        assertEquals(Long.toString(v), Replies.writeLong(b, v).toString(StandardCharsets.US_ASCII));
      } finally {
        b.release();
      }
    }
  }

  @Test
  void everyCharacterEscapedAsJackson() {
    for (char c = 0; c < 0x3000; c++) {
      String s = "x" + c + "y";
      String expected = new JsonArray().add(s).encode();
      assertEquals(expected, Replies.string(new StringBuilder("["), s).append(']').toString());
      ByteBuf b = Unpooled.buffer();
      try {
        assertEquals(expected, Replies.string(b.writeByte('['), s).writeByte(']').toString(StandardCharsets.UTF_8));
      } finally {
        b.release();
      }
    }
  }

  private static List<String> pick(Random rnd, int n) {
    List<String> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(NAMES[rnd.nextInt(NAMES.length)] + i);
    }
    return out;
  }

  /** The encoding before the ack was written by hand (as a string, encoded as UTF-8 when sent). */
  private static String reference(List<String> subscribed, List<Replies.Rejected> rejected, int count, Map<String, Position> positions) {
    JsonObject o = new JsonObject().put("type", "subscription_ack").put("subscribed", new JsonArray(List.copyOf(subscribed))).put("count", count);
    if (!rejected.isEmpty()) {
      JsonArray a = new JsonArray();
      for (Replies.Rejected r : rejected) {
        a.add(new JsonObject().put("channel", r.channel()).put("reason", r.reason()));
      }
      o.put("rejected", a);
    }
    JsonObject at = new JsonObject();
    for (String c : subscribed) {
      Position p = positions.get(c);
      if (p != null) {
        at.put(c, p.partition() + ":" + p.offset());
      }
    }
    if (!at.isEmpty()) {
      o.put("positions", at);
    }
    return new String(o.encode().getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8);
  }
}
