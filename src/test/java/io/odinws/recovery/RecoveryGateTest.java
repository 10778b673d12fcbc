package io.odinws.recovery;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.odinws.envelope.ChannelKeys;
import io.odinws.envelope.OutboundMessage;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The gate alone: what it holds, what it drops, and that it owns (and frees) what it holds. */
class RecoveryGateTest {

  private static final ChannelKeys KEYS = ChannelKeys.of("BTC", "trade");

  @Test
  void aSecondRecoveryOfAChannelReleasesWhatTheFirstHeld() {
    RecoveryGate gate = new RecoveryGate();
    gate.open("BTC.trade", 5, 10);
    ByteBuf frame = Unpooled.directBuffer(8).writeLong(1);
    assertFalse(gate.passes(new OutboundMessage(KEYS, 0, 6, frame)));
    assertEquals(2, frame.refCnt(), "the gate holds its own reference");
    gate.open("BTC.trade", 5, 10);
    assertEquals(1, frame.refCnt(), "superseded: released");
    gate.discard();
    frame.release();
  }

  @Test
  void afterTheReplayOnlyOffsetsPastTheFloorPassAndTheGateEmpties() {
    RecoveryGate gate = new RecoveryGate();
    HeldBack held = gate.open("BTC.trade", 5, 10);
    ByteBuf six = Unpooled.directBuffer(8).writeLong(6);
    assertFalse(gate.passes(new OutboundMessage(KEYS, 0, 6, six)));
    List<Long> written = new ArrayList<>();
    held.release(new ReplayTarget() {
      @Override
      public String subject() {
        return null;
      }

      @Override
      public boolean isClosing() {
        return false;
      }

      @Override
      public RecoveryGate gate() {
        return gate;
      }

      @Override
      public void writeFrame(ByteBuf frame) {
        written.add(frame.getLong(0));
        frame.release();
      }

      @Override
      public void flush() {
      }

      @Override
      public void reply(String json) {
      }
    });
    assertEquals(List.of(6L), written);
    assertEquals(1, six.refCnt(), "the held reference was written (and released by the writer)");
    ByteBuf again = Unpooled.directBuffer(8);
    assertFalse(gate.passes(new OutboundMessage(KEYS, 0, 6, again)), "at or below the floor");
    assertFalse(gate.isEmpty());
    assertTrue(gate.passes(new OutboundMessage(KEYS, 0, 7, again)));
    assertTrue(gate.isEmpty());
    assertTrue(gate.passes(new OutboundMessage(ChannelKeys.of("ETH", "trade"), 0, 1, again)), "ungated channel");
    again.release();
    six.release();
  }
}
