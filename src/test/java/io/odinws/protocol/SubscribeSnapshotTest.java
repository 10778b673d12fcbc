package io.odinws.protocol;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

/** A subscribe's {@code snapshot} (PROTOCOL.md section 3): a whole number >= 0, anything else an error naming the maximum. */
class SubscribeSnapshotTest {

  private static long snapshot(String value) {
    String text = "{\"type\":\"subscribe\",\"data\":{\"channels\":[\"BTC.trade\"]" + (value == null ? "" : ",\"snapshot\":" + value) + "}}";
    return assertInstanceOf(ClientRequest.Subscribe.class, ClientRequest.parse(text, 100), value).snapshot();
  }

  @Test
  void wholeNumbersAreTakenAsAskedAndClampedLater() {
    assertEquals(0, snapshot(null), "absent: none");
    assertEquals(0, snapshot("0"));
    assertEquals(20, snapshot("20"));
    assertEquals(20, snapshot("20.0"));
    assertEquals(5_000, snapshot("5000"), "over the maximum: the server clamps, the ack says what was asked");
    assertEquals(Long.MAX_VALUE, snapshot("100000000000000000000000"));
    assertEquals(Long.MAX_VALUE, snapshot("1e30"));
  }

  @Test
  void anythingElseIsInvalidMessageNamingTheMaximum() {
    for (String bad : new String[] {"-1", "2.5", "\"20\"", "true", "null", "{}", "[]", "-1e30"}) {
      String text = "{\"type\":\"subscribe\",\"data\":{\"channels\":[\"BTC.trade\"],\"snapshot\":" + bad + "}}";
      ErrorReply error = assertInstanceOf(ClientRequest.Invalid.class, ClientRequest.parse(text, 100), bad).error();
      assertEquals(new ErrorReply("INVALID_MESSAGE", "Malformed data for 'subscribe': \"snapshot\" must be a whole number from 0 to 100"), error, bad);
    }
  }
}
