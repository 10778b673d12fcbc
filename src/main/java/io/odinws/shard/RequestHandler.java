package io.odinws.shard;

import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.odinws.config.LimitsConfig;
import io.odinws.config.WsConfig;
import io.odinws.stats.ShardStats;
import io.odinws.envelope.ChannelName;
import io.odinws.protocol.ClientRequest;
import io.odinws.protocol.ErrorReply;
import io.odinws.protocol.Replies;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A shard's client requests (PROTOCOL.md section 3): the inbound rate limit first, then subscribe,
 * unsubscribe, heartbeat and reconnect against the shard's index. Runs on the shard's loop.
 */
final class RequestHandler {

  private static final long NANOS_PER_SECOND = 1_000_000_000L;

  private final SubscriptionIndex index;
  private final ShardStats stats;
  private final WsConfig ws;
  private final LimitsConfig limits;
  private final Set<String> categories;
  private final Set<String> topics;
  private final ErrorReply rateLimited;
  private final ErrorReply channelLimit;
  private final String limitReason;

  private final Recovery recovery;

  RequestHandler(SubscriptionIndex index, ShardStats stats, WsConfig ws, LimitsConfig limits, Map<String, String> topicCategories,
                 Recovery recovery) {
    this.recovery = recovery;
    this.index = index;
    this.stats = stats;
    this.ws = ws;
    this.limits = limits;
    this.categories = Set.copyOf(topicCategories.values());
    this.topics = topicCategories.keySet();
    this.rateLimited = new ErrorReply("RATE_LIMIT_EXCEEDED",
        "Too many messages, please slow down (limit: " + limits.messagesPerSecond() + "/sec)");
    this.limitReason = "limit of " + ws.maxChannelsPerConnection() + " channels";
    this.channelLimit = new ErrorReply("CHANNEL_LIMIT_EXCEEDED",
        "Subscription limit reached: at most " + ws.maxChannelsPerConnection() + " channels per connection");
  }

  /** Every inbound data message (text or binary) passes here first. @return false when it must be dropped. */
  boolean admit(Connection c, ChannelHandlerContext ctx, long nowNanos) {
    c.windowMessages++;
    double refill = (nowNanos - c.tokensAtNanos) * (double) limits.messagesPerSecond() / NANOS_PER_SECOND;
    c.tokens = Math.min(limits.messageBurst(), c.tokens + refill);
    c.tokensAtNanos = nowNanos;
    if (c.tokens >= 1) {
      c.tokens -= 1;
      return true;
    }
    stats.rateLimited();
    // One error per second at most: answering every dropped message would turn a flood around.
    if (nowNanos - c.lastRateErrorNanos >= NANOS_PER_SECOND) {
      c.lastRateErrorNanos = nowNanos;
      sendError(ctx, rateLimited);
    }
    return false;
  }

  void onText(Connection c, ChannelHandlerContext ctx, String text) {
    ClientRequest req = ClientRequest.parse(text);
    if (req instanceof ClientRequest.Subscribe s) {
      SubscribeResult result = subscribe(c, s.channels());
      send(ctx, result.ack());
      if (result.overLimit()) {
        sendError(ctx, channelLimit);
      }
      if (s.lastOffset() != null) {
        reconnect(c, ctx, s.lastOffset().getMap());
      }
    } else if (req instanceof ClientRequest.Unsubscribe u) {
      send(ctx, unsubscribe(c, u.channels()));
    } else if (req instanceof ClientRequest.Heartbeat) {
      send(ctx, Replies.pong(System.currentTimeMillis()));
    } else if (req instanceof ClientRequest.Reconnect r) {
      reconnect(c, ctx, r.lastOffset());
    } else if (req instanceof ClientRequest.InvalidReconnect r) {
      send(ctx, Replies.reconnectError(r.message()));
    } else if (req instanceof ClientRequest.Invalid i) {
      sendError(ctx, i.error());
    }
  }

  /** What a subscribe did: the ack to send, the channels refused with why, and whether the limit was hit. */
  private record SubscribeResult(String ack, Map<String, String> rejected, boolean overLimit) {
  }

  private SubscribeResult subscribe(Connection c, List<String> channels) {
    List<String> accepted = new ArrayList<>(channels.size());
    List<Replies.Rejected> rejected = new ArrayList<>();
    boolean overLimit = false;
    for (String channel : new LinkedHashSet<>(channels)) { // a channel named twice is answered once
      String problem = ChannelName.problem(channel, categories);
      if (problem == null && c.subscriptionCount() >= ws.maxChannelsPerConnection()
          && (c.channels == null || !c.channels.contains(channel))) {
        problem = limitReason;
        overLimit = true;
      }
      if (problem != null) {
        rejected.add(new Replies.Rejected(channel, problem));
      } else {
        index.add(c, channel);
        accepted.add(channel);
      }
    }
    Map<String, String> refused = new LinkedHashMap<>();
    rejected.forEach(r -> refused.put(r.channel(), r.reason()));
    Map<String, String> positions = new LinkedHashMap<>();
    for (String channel : accepted) {
      String pos = recovery.currentPosition(channel);
      if (pos != null) {
        positions.put(channel, pos);
      }
    }
    return new SubscribeResult(Replies.subscriptionAck(accepted, rejected, c.subscriptionCount(), positions), refused, overLimit);
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
  private void reconnect(Connection c, ChannelHandlerContext ctx, Map<String, Object> lastOffset) {
    for (String key : lastOffset.keySet()) {
      if (topics.contains(key)) {
        send(ctx, Replies.reconnectError("last_offset is keyed by topic ('" + key + "'); key it by channel instead, with the pos"
            + " of the last message received on it, e.g. {\"BTC.trade\":\"3:1042\"}"));
        return;
      }
    }
    List<String> missing = new ArrayList<>();
    for (String channel : lastOffset.keySet()) {
      if (c.channels == null || !c.channels.contains(channel)) {
        missing.add(channel);
      }
    }
    Map<String, String> refused = missing.isEmpty() ? Map.of() : subscribe(c, missing).rejected();
    recovery.start(c, ctx, lastOffset, refused);
  }

  void sendError(ChannelHandlerContext ctx, ErrorReply error) {
    send(ctx, Replies.error(error));
  }

  private static void send(ChannelHandlerContext ctx, String json) {
    ctx.writeAndFlush(new TextWebSocketFrame(json));
  }
}
