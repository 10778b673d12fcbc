package io.odinws.envelope;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Owners of private records: the string values at the topic's JSON pointers, the same on the live and replay paths. */
class RecordOwnersTest {

  private static final String BALANCES = "odin.balances";
  private static final Map<String, String> TOPICS = Map.of(BALANCES, "balances", "odin.trades", "trade");
  private static final RecordOwners OWNERS = new RecordOwners(Map.of(BALANCES, List.of("/data/user", "/data/from", "/data/to")));

  private static List<String> owners(String json) {
    return OWNERS.owners(BALANCES, json.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void aBalanceUpdateIsItsUsers() {
    assertEquals(List.of("0xalice"), owners("{\"type\":\"BALANCE_UPDATED\",\"timestamp\":1732000000000,"
        + "\"data\":{\"user\":\"0xalice\",\"balance\":\"12.5\",\"change\":\"-1.25\"}}"));
  }

  @Test
  void aTransferIsBothParties() {
    assertEquals(List.of("0xalice", "0xbob"), owners("{\"type\":\"TRANSFER_COMPLETED\",\"timestamp\":1,"
        + "\"data\":{\"from\":\"0xalice\",\"to\":\"0xbob\",\"amount\":\"3\",\"txHash\":\"0xabc\"}}"));
  }

  @Test
  void aSelfTransferHasOneOwner() {
    assertEquals(List.of("0xalice"), owners("{\"data\":{\"from\":\"0xalice\",\"to\":\"0xalice\",\"amount\":\"3\"}}"));
  }

  @Test
  void missingAndNonStringValuesAreIgnored() {
    assertEquals(List.of(), owners("{\"type\":\"BALANCE_UPDATED\",\"data\":{\"balance\":\"1\"}}"));
    assertEquals(List.of(), owners("{\"data\":{\"user\":42,\"from\":null,\"to\":{\"user\":\"0xalice\"}}}"));
    assertEquals(List.of(), owners("{\"data\":[\"0xalice\"]}"));
    assertEquals(List.of(), owners("[{\"data\":{\"user\":\"0xalice\"}}]"));
    assertEquals(List.of(), owners("\"0xalice\""));
    assertEquals(List.of("0xbob"), owners("{\"data\":{\"from\":true,\"to\":\"0xbob\"}}"));
  }

  @Test
  void subtreesNoPointerEntersAreSkippedWhateverTheyHold() {
    assertEquals(List.of("0xalice"), owners("{\"meta\":{\"data\":{\"user\":\"0xmallory\"},\"x\":[1,[2,{\"user\":\"0xeve\"}]]},"
        + "\"user\":\"0xtrent\",\"data\":{\"nested\":{\"user\":\"0xoscar\"},\"user\":\"0xalice\"}}"));
  }

  @Test
  void pointersFollowRfc6901IncludingArrayIndexesAndEscapes() {
    RecordOwners owners = new RecordOwners(Map.of("t", List.of("/parties/1", "/a~1b/c~0d")));
    assertEquals(List.of("0xbob", "0xcarol"), owners.owners("t",
        "{\"parties\":[\"0xalice\",\"0xbob\"],\"a/b\":{\"c~d\":\"0xcarol\"}}".getBytes(StandardCharsets.UTF_8)));
    assertThrows(IllegalArgumentException.class, () -> new RecordOwners(Map.of("t", List.of("data/user"))));
  }

  @Test
  void aPublicTopicHasNoOwnersAndIsNotParsed() {
    assertNull(OWNERS.owners("odin.trades", "{\"data\":{\"user\":\"0xalice\"}}".getBytes(StandardCharsets.UTF_8)));
    assertNull(OWNERS.owners("odin.trades", "not even json".getBytes(StandardCharsets.UTF_8)), "a public value is never read");
    assertEquals(Set.of("balances"), OWNERS.privateCategories(TOPICS));
    assertEquals(Set.of(), RecordOwners.of(Map.of()).privateCategories(TOPICS), "auth off: no private topic");
  }

  @Test
  void theLiveAndReplayPathsAgreeAndARecordWithoutOwnerIsSkipped() {
    ConsumerRecord<byte[], byte[]> transfer = record(BALANCES, "BTC", "{\"data\":{\"from\":\"0xalice\",\"to\":\"0xbob\"}}");
    RecordFrames.Checked live = RecordFrames.check(transfer, TOPICS, new ChannelNames(), OWNERS);
    assertEquals(List.of("0xalice", "0xbob"), live.owners());
    FrameEncoder encoder = new FrameEncoder(io.netty.buffer.UnpooledByteBufAllocator.DEFAULT);
    OutboundMessage replay = RecordFrames.replayMessage(encoder, TOPICS, transfer, OWNERS);
    try {
      assertEquals(live.owners(), replay.owners());
      assertTrue(replay.isFor("0xbob") && !replay.isFor("0xcarol") && !replay.isFor(null));
    } finally {
      replay.frame().release();
    }

    ConsumerRecord<byte[], byte[]> orphan = record(BALANCES, "BTC", "{\"data\":{\"balance\":\"1\"}}");
    assertEquals(SkipReason.NO_OWNER, RecordFrames.check(orphan, TOPICS, null, OWNERS).skip());
    assertNull(RecordFrames.replayMessage(encoder, TOPICS, orphan, OWNERS));
    assertEquals("no_owner", SkipReason.NO_OWNER.label);

    ConsumerRecord<byte[], byte[]> trade = record("odin.trades", "BTC", "{\"data\":{\"user\":\"0xalice\"}}");
    assertNull(RecordFrames.check(trade, TOPICS, null, OWNERS).owners(), "a public record stays public");
  }

  private static ConsumerRecord<byte[], byte[]> record(String topic, String key, String value) {
    return new ConsumerRecord<>(topic, 0, 7, key.getBytes(StandardCharsets.UTF_8), value.getBytes(StandardCharsets.UTF_8));
  }
}
