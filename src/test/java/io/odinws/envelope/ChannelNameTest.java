package io.odinws.envelope;

import org.junit.jupiter.api.Test;

import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/** A token's length limit counts UTF-8 bytes, whatever the characters' widths. */
class ChannelNameTest {

  private static final Set<String> CATEGORIES = Set.of("trade");
  private static final String TOO_LONG = "token longer than " + ChannelName.MAX_TOKEN_BYTES + " bytes";

  @Test
  void aTokenUpToTheLimitInBytesIsValidOneByteMoreIsNot() {
    // one, two, three and four (a surrogate pair) UTF-8 bytes per character
    for (String ch : new String[] {"x", "é", "漢", "😀"}) {
      int bytes = ch.getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
      int fit = ChannelName.MAX_TOKEN_BYTES / bytes;
      assertNull(ChannelName.problem(ch.repeat(fit) + ".trade", CATEGORIES), ch);
      assertEquals(TOO_LONG, ChannelName.problem(ch.repeat(fit + 1) + ".trade", CATEGORIES), ch);
    }
    assertEquals(TOO_LONG, ChannelName.problem("x".repeat(127) + "é.trade", CATEGORIES));
  }
}
