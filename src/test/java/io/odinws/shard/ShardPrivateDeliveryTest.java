package io.odinws.shard;

import io.odinws.auth.Identity;
import io.odinws.envelope.OutboundMessage;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Private categories on the fan-out (issue 15): a private record reaches the connections authenticated as
 * one of its owners, once each whatever the number of their matching subscriptions, and nobody else;
 * public records as before. Identities are set directly, as the authentication flow would.
 */
class ShardPrivateDeliveryTest {

  private static final String ALICE = "0xalice";
  private static final String BOB = "0xbob";

  private static EmbeddedShard optionalAuth() {
    return new EmbeddedShard(new JsonObject().put("auth", new JsonObject().put("mode", "optional")));
  }

  private static EmbeddedShard.Client as(EmbeddedShard s, String subject) {
    EmbeddedShard.Client c = s.client();
    c.upgrade();
    if (subject != null) {
      c.connection().authenticate(new Identity(subject, Long.MAX_VALUE, null));
      s.shard.index().authenticated(c.connection());
    }
    return c;
  }

  private static String balance(String user) {
    return "{\"type\":\"BALANCE_UPDATED\",\"timestamp\":1732000000000,\"data\":{\"user\":\"" + user + "\",\"balance\":\"10\",\"change\":\"1\"}}";
  }

  private static String transfer(String from, String to) {
    return "{\"type\":\"TRANSFER_COMPLETED\",\"timestamp\":1732000000000,\"data\":{\"from\":\"" + from + "\",\"to\":\"" + to
        + "\",\"amount\":\"3\",\"txHash\":\"0xabc\"}}";
  }

  private static List<Long> seqs(EmbeddedShard.Client c) {
    return c.received().stream().map(f -> f.getLong("seq")).toList();
  }

  @Test
  void aPrivateRecordReachesItsOwnersOnceAndNobodyElse() {
    try (EmbeddedShard s = optionalAuth()) {
      EmbeddedShard.Client alice = as(s, ALICE);
      EmbeddedShard.Client bob = as(s, BOB);
      EmbeddedShard.Client carol = as(s, "0xcarol");
      EmbeddedShard.Client anonymous = as(s, null);
      alice.subscribe("BTC.balances", "*.balances", "BTC.*");
      bob.subscribe("*.balances");
      carol.subscribe("BTC.balances", "BTC.*", "*.balances");
      // refused by the request handler once authentication is in; here, at least, never indexed
      anonymous.subscribe("BTC.*", "*.trade", "BTC.balances", "*.balances");

      OutboundMessage aliceBalance = s.privateMessage("BTC", "balances", balance(ALICE), ALICE);
      OutboundMessage aliceToBob = s.privateMessage("BTC", "balances", transfer(ALICE, BOB), ALICE, BOB);
      OutboundMessage daveBalance = s.privateMessage("ETH", "balances", balance("0xdave"), "0xdave");
      OutboundMessage bobOnEth = s.privateMessage("ETH", "balances", balance(BOB), BOB);
      OutboundMessage trade = s.message("BTC", "trade", "{\"price\":1}");
      s.shard.onBatch(EmbeddedShard.batch(aliceBalance, aliceToBob, daveBalance, bobOnEth, trade));
      s.channel.runPendingTasks();

      assertEquals(List.of(aliceBalance.offset(), aliceToBob.offset(), trade.offset()), seqs(alice),
          "alice: her balance once despite three matching subscriptions, the transfer, the public trade by BTC.*");
      assertEquals(List.of(aliceToBob.offset(), bobOnEth.offset()), seqs(bob), "bob: the transfer he received, his own balance");
      assertEquals(List.of(trade.offset()), seqs(carol), "carol: only the public record");
      assertEquals(List.of(trade.offset()), seqs(anonymous), "anonymous: only the public record");
      assertEquals(4, s.stats().privateDeliveries());
      assertEquals(7, s.stats().messagesSent(), "4 private, the trade to alice, carol and the anonymous client");
      for (OutboundMessage m : List.of(aliceBalance, aliceToBob, daveBalance, bobOnEth, trade)) {
        assertEquals(0, m.frame().refCnt(), "released once written: " + m.offset());
      }
    }
  }

  @Test
  void unsubscribingAndClosingDetachBothParts() {
    try (EmbeddedShard s = optionalAuth()) {
      EmbeddedShard.Client alice = as(s, ALICE);
      alice.subscribe("BTC.balances", "*.balances", "BTC.*");
      SubscriptionIndex index = s.shard.index();
      assertEquals(3, index.subscriptionCount(), "BTC.* counts once though it is in both parts");
      assertEquals(3, s.stats().subscriptions());

      alice.sendText("{\"type\":\"unsubscribe\",\"data\":{\"channels\":[\"BTC.balances\",\"*.balances\"]}}");
      assertEquals("unsubscription_ack", alice.received().get(0).getString("type"));
      assertNull(index.get("BTC.balances", ALICE));
      assertNull(index.get("*.balances", ALICE));
      OutboundMessage btc = s.privateMessage("BTC", "balances", balance(ALICE), ALICE);
      OutboundMessage eth = s.privateMessage("ETH", "balances", balance(ALICE), ALICE);
      s.shard.onBatch(EmbeddedShard.batch(btc, eth));
      s.channel.runPendingTasks();
      assertEquals(List.of(btc.offset()), seqs(alice), "BTC.* still brings her BTC records, nothing else");

      alice.connection().close(Disconnect.SHUTDOWN);
      alice.channel.runPendingTasks();
      s.channel.runPendingTasks();
      assertEquals(0, index.subscriptionCount());
      assertEquals(0, index.channelCount(), "no key left in either part");
      OutboundMessage after = s.privateMessage("BTC", "balances", balance(ALICE), ALICE);
      s.shard.onBatch(EmbeddedShard.batch(after));
      s.channel.runPendingTasks();
      assertEquals(1, s.stats().privateDeliveries(), "nothing delivered after the close");
      assertEquals(0, after.frame().refCnt());
    }
  }

  @Test
  void aTokenWildcardSubscribedAnonymouslyGainsItsOwnRecordsOnAuthentication() {
    try (EmbeddedShard s = optionalAuth()) {
      EmbeddedShard.Client erin = as(s, null);
      erin.subscribe("BTC.*");
      OutboundMessage before = s.privateMessage("BTC", "balances", balance("0xerin"), "0xerin");
      s.shard.onBatch(EmbeddedShard.batch(before));
      s.channel.runPendingTasks();
      assertEquals(List.of(), seqs(erin), "anonymous: public categories only");

      erin.connection().authenticate(new Identity("0xerin", Long.MAX_VALUE, null));
      s.shard.index().authenticated(erin.connection());
      s.shard.index().authenticated(erin.connection()); // a refresh: nothing added twice
      assertEquals(1, s.shard.index().subscriptionCount());
      OutboundMessage mine = s.privateMessage("BTC", "balances", balance("0xerin"), "0xerin");
      OutboundMessage others = s.privateMessage("BTC", "balances", balance(ALICE), ALICE);
      OutboundMessage trade = s.message("BTC", "trade", "{\"price\":1}");
      s.shard.onBatch(EmbeddedShard.batch(mine, others, trade));
      s.channel.runPendingTasks();
      assertEquals(List.of(mine.offset(), trade.offset()), seqs(erin));

      erin.connection().close(Disconnect.SHUTDOWN);
      erin.channel.runPendingTasks();
      assertEquals(0, s.shard.index().channelCount(), "the private entry the authentication added is detached too");
    }
  }

  @Test
  void privateChannelsAreTheExactAndCategoryWildcardOfAPrivateCategory() {
    try (EmbeddedShard s = optionalAuth()) {
      SubscriptionIndex index = s.shard.index();
      assertTrue(index.isPrivate("BTC.balances"));
      assertTrue(index.isPrivate("*.balances"));
      assertFalse(index.isPrivate("BTC.*"));
      assertFalse(index.isPrivate("BTC.trade"));
      assertFalse(index.isPrivate("*.trade"));

      EmbeddedShard.Client anonymous = as(s, null);
      index.add(anonymous.connection(), "BTC.balances");
      assertNull(index.get("BTC.balances"), "never in the public part");
      assertEquals(0, index.channelCount(), "an anonymous private subscription reaches nobody");
    }
    try (EmbeddedShard off = new EmbeddedShard()) {
      assertFalse(off.shard.index().isPrivate("BTC.balances"), "auth.mode off: balances are public, as before");
    }
  }
}
