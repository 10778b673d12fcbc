package io.odinws.protocol;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.LinkedHashMap;
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
      Map<String, String> positions = new LinkedHashMap<>();
      for (String c : pick(rnd, rnd.nextInt(3))) {
        positions.put(c, rnd.nextInt(12) + ":" + (rnd.nextInt(100000) - 1));
      }
      int count = rnd.nextInt(100);
      assertEquals(reference(subscribed, rejected, count, positions), Replies.subscriptionAck(subscribed, rejected, count, positions));
    }
  }

  @Test
  void everyCharacterEscapedAsJackson() {
    for (char c = 0; c < 0x3000; c++) {
      String s = "x" + c + "y";
      assertEquals(new JsonArray().add(s).encode(), Replies.string(new StringBuilder("["), s).append(']').toString());
    }
  }

  private static List<String> pick(Random rnd, int n) {
    List<String> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(NAMES[rnd.nextInt(NAMES.length)] + i);
    }
    return out;
  }

  /** The encoding before the ack was written by hand. */
  private static String reference(List<String> subscribed, List<Replies.Rejected> rejected, int count, Map<String, String> positions) {
    JsonObject o = new JsonObject().put("type", "subscription_ack").put("subscribed", new JsonArray(List.copyOf(subscribed))).put("count", count);
    if (!rejected.isEmpty()) {
      JsonArray a = new JsonArray();
      for (Replies.Rejected r : rejected) {
        a.add(new JsonObject().put("channel", r.channel()).put("reason", r.reason()));
      }
      o.put("rejected", a);
    }
    if (!positions.isEmpty()) {
      o.put("positions", new JsonObject(new LinkedHashMap<>(positions)));
    }
    return o.encode();
  }
}
