package io.odinws.shard;

import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.odinws.auth.AuthStats;
import io.odinws.config.WsConfig;
import io.odinws.envelope.ChannelName;
import io.odinws.protocol.ClientRequest;
import io.odinws.protocol.ErrorReply;
import io.odinws.protocol.Position;
import io.odinws.protocol.Replies;
import io.odinws.recovery.Recoveries;
import io.odinws.recovery.SnapshotRequest;
import io.odinws.stats.ShardStats;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * A shard's client requests (PROTOCOL.md section 3): the inbound rate limit first, then subscribe,
 * unsubscribe, heartbeat and reconnect against the shard's index. Runs on the shard's loop.
 */
final class RequestHandler {

  private final SubscriptionIndex index;
  private final ShardStats stats;
  private final int maxChannels;
  private final Set<String> categories;
  private final Set<String> topics;
  /** The rate limit's error reply, encoded once: a flood is answered with it over and over. */
  private final String rateLimited;
  private final ErrorReply channelLimit;
  private final String limitReason;
  private final Recoveries recoveries;
  /** Where an accepted channel is recovered from, for its ack: one function, not one per subscribe. */
  private final Function<String, Position> positionOf;
  private final Authenticator auth;

  RequestHandler(SubscriptionIndex index, ShardStats stats, WsConfig ws, ConnectionPolicy policy, Map<String, String> topicCategories,
                 Recoveries recoveries, Authenticator auth) {
    this.auth = auth;
    this.recoveries = recoveries;
    this.positionOf = recoveries::position;
    this.index = index;
    this.stats = stats;
    this.maxChannels = ws.maxChannelsPerConnection();
    this.categories = Set.copyOf(topicCategories.values());
    this.topics = topicCategories.keySet();
    this.rateLimited = Replies.error(new ErrorReply("RATE_LIMIT_EXCEEDED",
        "Too many messages, please slow down (limit: " + policy.messagesPerSecond() + "/sec)"));
    this.limitReason = "limit of " + maxChannels + " channels";
    this.channelLimit = new ErrorReply("CHANNEL_LIMIT_EXCEEDED",
        "Subscription limit reached: at most " + maxChannels + " channels per connection");
  }

  /** An admitted text message, valid UTF-8: read only now, so a flood's dropped messages cost no string. */
  void onText(Connection c, TextWebSocketFrame frame) {
    handle(c, ClientRequest.parse(frame.content(), recoveries.maxSnapshotMessages()));
  }

  /** A subscribe the upgrade request asked for (see {@link io.odinws.protocol.UpgradeQuery}): answered as the message is. */
  void onUpgrade(Connection c, ClientRequest.Subscribe subscribe) {
    handle(c, subscribe);
  }

  /** An admitted binary message: refused. */
  void onBinary(Connection c) {
    sendError(c, ErrorReply.BINARY);
  }

  /**
   * Every inbound data message passes here first, before it is validated or read: counted, then rate limited.
   * @return false when it must be dropped
   */
  boolean admit(Connection c) {
    return counted(c, c.admit());
  }

  /**
   * A data message not decoded yet (see {@link OverRateFrameDecoder}): when the rate limit would drop it, it is
   * dropped now, counted as {@link #admit} counts a drop. Otherwise nothing changes, and it is admitted when decoded.
   * @return true when dropped
   */
  boolean dropUnread(Connection c) {
    InboundLimiter.Verdict verdict = c.dropIfOverRate();
    return verdict != InboundLimiter.Verdict.PASS && !counted(c, verdict);
  }

  /** Counts a verdict on a received message, answers a drop that is to be told. @return true when admitted */
  private boolean counted(Connection c, InboundLimiter.Verdict verdict) {
    stats.received();
    if (verdict == InboundLimiter.Verdict.PASS) {
      return true;
    }
    stats.rateLimited();
    if (verdict == InboundLimiter.Verdict.DROP_AND_TELL) {
      c.reply(rateLimited);
    }
    return false;
  }

  private void handle(Connection c, ClientRequest req) {
    if (req instanceof ClientRequest.Subscribe s) {
      SubscribeResult result = subscribe(c, s.channels(), s.snapshot(), s.lastOffset() == null ? Set.of() : s.lastOffset().fieldNames());
      // a snapshotted channel's position is where its gate opened: the snapshot ends there and live continues after it
      Function<String, Position> positions = result.snapshot() == null ? positionOf : result.snapshot()::switchPosition;
      c.reply(Replies.subscriptionAck(c.alloc(), result.accepted(), result.rejected(), c.subscriptionCount(), positions));
      if (result.overLimit()) {
        sendError(c, channelLimit);
      }
      // On the wire: subscription_ack, [replayed messages, reconnect_ack], [snapshot messages, snapshot_ack].
      SnapshotRequest snapshot = result.snapshot();
      if (s.lastOffset() != null) {
        reconnect(c, s.lastOffset().getMap(), snapshot == null ? () -> { } : snapshot::start);
      } else if (snapshot != null) {
        snapshot.start();
      }
    } else if (req instanceof ClientRequest.Unsubscribe u) {
      c.reply(unsubscribe(c, u.channels()));
    } else if (req instanceof ClientRequest.Auth a) {
      c.reply(auth.onMessage(c, a.token()));
    } else if (req instanceof ClientRequest.Heartbeat) {
      c.reply(Replies.pong(c.alloc(), System.currentTimeMillis()));
    } else if (req instanceof ClientRequest.Reconnect r) {
      reconnect(c, r.lastOffset(), () -> { });
    } else if (req instanceof ClientRequest.InvalidReconnect r) {
      c.reply(Replies.reconnectError(r.message()));
    } else if (req instanceof ClientRequest.Invalid i) {
      sendError(c, i.error());
    }
  }

  /**
   * What a subscribe did: the channels accepted and those refused with why (the ack's), whether the limit was hit,
   * and its snapshot, gated and waiting to start (null when none was asked).
   */
  private record SubscribeResult(List<String> accepted, List<Replies.Rejected> rejected, boolean overLimit, SnapshotRequest snapshot) {

    /** The refused channels and why, in order. */
    Map<String, String> refused() {
      if (rejected.isEmpty()) {
        return Map.of();
      }
      Map<String, String> refused = new LinkedHashMap<>();
      for (Replies.Rejected r : rejected) {
        refused.put(r.channel(), r.reason());
      }
      return refused;
    }
  }

  private SubscribeResult subscribe(Connection c, List<String> channels) {
    return subscribe(c, channels, 0, Set.of());
  }

  /**
   * @param snapshot  messages per channel asked as a snapshot (0: none)
   * @param recovered channels the same message recovers from a position (last_offset): no snapshot for them
   */
  private SubscribeResult subscribe(Connection c, List<String> channels, long snapshot, Set<String> recovered) {
    List<String> accepted = new ArrayList<>(channels.size());
    List<Replies.Rejected> rejected = List.of();
    boolean overLimit = false;
    // a channel named twice is answered once (one channel, the usual request, needs no set for that)
    for (String channel : channels.size() == 1 ? channels : new LinkedHashSet<>(channels)) {
      String problem = ChannelName.problem(channel, categories);
      if (problem == null) {
        AuthStats.SubscriptionRefusal refusal = auth.refusal(c, channel);
        if (refusal != null) {
          auth.stats().subscriptionRefused(refusal);
          problem = Authenticator.reason(refusal);
        }
      }
      if (problem == null && c.subscriptionCount() >= maxChannels && !c.isSubscribed(channel)) {
        problem = limitReason;
        overLimit = true;
      }
      if (problem != null) {
        if (rejected.isEmpty()) {
          rejected = new ArrayList<>();
        }
        rejected.add(new Replies.Rejected(channel, problem));
      } else {
        index.add(c, channel);
        accepted.add(channel);
      }
    }
    SnapshotRequest snapshotRequest = null;
    if (snapshot > 0) {
      // Gated in the task that subscribed them: no live message of these channels is written before the snapshot.
      List<String> asked = recovered.isEmpty() ? accepted : accepted.stream().filter(ch -> !recovered.contains(ch)).toList();
      snapshotRequest = recoveries.openSnapshot(c, snapshot, asked);
    }
    return new SubscribeResult(accepted, rejected, overLimit, snapshotRequest);
  }

  private String unsubscribe(Connection c, List<String> channels) {
    List<String> removed = new ArrayList<>(channels.size());
    for (String channel : new LinkedHashSet<>(channels)) {
      index.remove(c, channel);
      removed.add(channel); // unsubscribing a channel not subscribed is not an error
    }
    return Replies.unsubscriptionAck(removed, List.of(), c.subscriptionCount());
  }

  /**
   * Subscribes every channel named in {@code lastOffset} that is not subscribed yet (old clients
   * subscribe first, then reconnect; both orders work), then recovers each from its position.
   */
  private void reconnect(Connection c, Map<String, Object> lastOffset, Runnable then) {
    for (String key : lastOffset.keySet()) {
      if (topics.contains(key)) {
        c.reply(Replies.reconnectError("last_offset is keyed by topic ('" + key + "'); key it by channel instead, with the pos"
            + " of the last message received on it, e.g. {\"BTC.trade\":\"3:1042\"}"));
        then.run();
        return;
      }
    }
    List<String> missing = new ArrayList<>();
    for (String channel : lastOffset.keySet()) {
      if (!c.isSubscribed(channel)) {
        missing.add(channel);
      }
    }
    Map<String, String> refused = missing.isEmpty() ? Map.of() : subscribe(c, missing).refused();
    recoveries.start(c, lastOffset, refused, then);
  }

  private static void sendError(Connection c, ErrorReply error) {
    c.reply(Replies.error(error));
  }
}
