package io.odinws.protocol;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Objects;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A plain query is read without Netty's decoder, to the same answer as the decoder's for every shape. */
class UpgradeQueryTest {

  private static final String[] PARTS = {"subscribe", "snapshot", "=", "=", "&", "&", ",", "BTC.trade", "ETH.*", "x", "5",
      "12", "-1", "?", "%2C", "+", ";", "#", "sub", "scribe"};

  @Test
  void sameAnswerAsTheDecoderForEveryShape() {
    Random rnd = new Random(17);
    int plain = 0;
    for (int round = 0; round < 50_000; round++) {
      StringBuilder uri = new StringBuilder(rnd.nextBoolean() ? "/ws?subscribe" : "/ws?");
      for (int i = rnd.nextInt(10); i > 0; i--) {
        uri.append(PARTS[rnd.nextInt(PARTS.length)]);
      }
      String u = uri.toString();
      if (u.indexOf('%') < 0 && u.indexOf('+') < 0 && u.indexOf(';') < 0 && u.indexOf('#') < 0) {
        plain++;
      }
      assertEquals(answer(() -> UpgradeQuery.subscribe(u, false)), answer(() -> UpgradeQuery.subscribe(u)), u);
    }
    assertTrue(plain > 10_000, "plain queries tried: " + plain);
  }

  @Test
  void escapedAndPlainNamesAskTheSame() {
    ClientRequest.Subscribe plain = UpgradeQuery.subscribe("/ws?subscribe=BTC.trade,ETH.*&snapshot=5");
    assertEquals(new ClientRequest.Subscribe(List.of("BTC.trade", "ETH.*"), null, 5), plain);
    assertEquals(plain, UpgradeQuery.subscribe("/ws?subscribe=BTC.trade%2CETH.%2A&snapshot=5"));
    assertEquals(plain, UpgradeQuery.subscribe("/ws?token=t&subscribe=BTC.trade&subscribe=ETH.*&snapshot=5&snapshot=9"));
    assertNull(UpgradeQuery.subscribe("/ws#?subscribe=BTC.trade"));
    assertNull(UpgradeQuery.subscribe("/ws?subscriber=BTC.trade"));
  }

  private static String answer(java.util.function.Supplier<ClientRequest.Subscribe> s) {
    try {
      return Objects.toString(s.get());
    } catch (IllegalArgumentException e) {
      return "refused: " + e.getMessage();
    }
  }
}
