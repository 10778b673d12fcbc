package io.odinws.tools.hostile;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The hostile tool's bounds: loopback targets and sources only, a bounded socket count and duration. */
class HostileOptionsTest {

  @Test
  void defaultsAreTwentyLoopbackSourcesAndSixtySeconds() {
    HostileOptions o = HostileCommand.parse(new String[] {"--half-open", "3", "--flood", "2"});
    assertEquals(20, o.sourceAddresses().size());
    assertEquals("127.0.1.1", o.sourceAddresses().get(0).getHostAddress());
    assertEquals(60, o.durationSeconds());
    assertEquals(5, o.totalSlots());
    assertEquals(0, o.slotsOf(Kind.SLOW_LORIS));
  }

  @Test
  void refusesAnythingUnbounded() {
    assertMessage("loopback", "--url", "ws://10.0.0.1:8080/ws", "--half-open", "1");
    assertMessage("127.x.y.z", "--source-addresses", "10.0.0.1", "--half-open", "1");
    assertMessage("1..20000", "--flood", "15000", "--half-open", "15000");
    assertMessage("1..20000", "--duration", "5");
    assertMessage("--duration must be 1..600", "--duration", "601", "--half-open", "1");
    assertMessage("--slow-loris must be", "--slow-loris", "-1", "--half-open", "1");
  }

  private static void assertMessage(String part, String... args) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> HostileCommand.parse(args));
    assertTrue(e.getMessage().contains(part), e.getMessage());
  }
}
