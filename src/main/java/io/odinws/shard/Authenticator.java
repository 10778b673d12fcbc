package io.odinws.shard;

import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.odinws.auth.AuthContext;
import io.odinws.auth.AuthStats;
import io.odinws.auth.Identity;
import io.odinws.auth.Refusal;
import io.odinws.auth.Verification;
import io.odinws.config.AuthConfig;
import io.odinws.config.AuthMode;
import io.odinws.protocol.Replies;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A shard's side of authentication (docs/protocol.md, authentication): the token presented on the
 * upgrade, the {@code auth} message and its refresh, which subscriptions an identity may hold, and
 * when a connection's identity runs out. One per shard, on its loop; what it shares is thread-safe.
 */
final class Authenticator {

  private static final Logger LOG = LoggerFactory.getLogger(Authenticator.class);
  private static final String BEARER = "bearer ";

  private final AuthContext auth;
  private final AuthConfig config;
  private final AuthStats stats;
  private final long timeoutNanos;
  /** The shard's subscriptions: which channels are private, and what authentication re-indexes or revokes. */
  private final SubscriptionIndex index;

  Authenticator(AuthContext auth, SubscriptionIndex index) {
    this.auth = auth;
    this.config = auth.config();
    this.stats = auth.stats();
    this.index = index;
    this.timeoutNanos = TimeUnit.MILLISECONDS.toNanos(config.timeoutMs());
  }

  boolean enabled() {
    return config.enabled();
  }

  AuthStats stats() {
    return stats;
  }

  /**
   * Why {@code c} may not subscribe to {@code channel} (already a valid name); null when it may.
   */
  AuthStats.SubscriptionRefusal refusal(Connection c, String channel) {
    if (!enabled()) {
      return null;
    }
    Identity id = c.identity();
    if (id == null) {
      if (config.mode() == AuthMode.REQUIRED) {
        return AuthStats.SubscriptionRefusal.AUTH_REQUIRED;
      }
      return index.isPrivate(channel) ? AuthStats.SubscriptionRefusal.PRIVATE : null;
    }
    return id.permits(channel) ? null : AuthStats.SubscriptionRefusal.NOT_PERMITTED;
  }

  /**
   * The token presented on an upgrade request, if any: {@code Authorization: Bearer}, else the
   * {@code token} query parameter when allowed. Null with authentication off.
   */
  String presented(FullHttpRequest req) {
    if (!enabled()) {
      return null;
    }
    String header = req.headers().get(HttpHeaderNames.AUTHORIZATION);
    if (header != null && header.regionMatches(true, 0, BEARER, 0, BEARER.length())) {
      return header.substring(BEARER.length()).strip();
    }
    if (config.queryToken() && req.uri().indexOf('?') >= 0) {
      List<String> tokens;
      try {
        tokens = new QueryStringDecoder(req.uri()).parameters().get("token");
      } catch (IllegalArgumentException e) {
        // A query that does not decode (a bad %-escape): its token is malformed (401). The exception names the
        // whole URI, token included, so it must not reach the connection's error log.
        return req.uri().contains("token=") ? "" : null;
      }
      if (tokens != null && !tokens.isEmpty()) {
        return tokens.get(0);
      }
    }
    return null;
  }

  /**
   * Authenticates {@code c} with the token of its upgrade request.
   *
   * @return null when it is authenticated, else why not
   */
  Refusal atUpgrade(Connection c, String token) {
    Verification v = auth.verifier().verify(token);
    if (v instanceof Verification.Refused refused) {
      return refused(c, refused.refusal());
    }
    Identity id = ((Verification.Valid) v).identity();
    if (!c.holdUser(auth.users(), id.subject())) {
      return refused(c, Refusal.USER_CONNECTION_LIMIT);
    }
    c.authenticate(id);
    stats.accepted();
    return null; // no subscription yet: nothing to re-index
  }

  /**
   * The {@code auth} message: a first authentication, or a refresh for the same {@code sub}.
   *
   * @return the reply
   */
  String onMessage(Connection c, String token) {
    if (!enabled()) {
      return authError(c, Refusal.AUTH_DISABLED);
    }
    Verification v = auth.verifier().verify(token);
    if (v instanceof Verification.Refused refused) {
      return authError(c, refused.refusal());
    }
    Identity id = ((Verification.Valid) v).identity();
    Identity current = c.identity();
    if (current == null) {
      if (!c.holdUser(auth.users(), id.subject())) {
        return authError(c, Refusal.USER_CONNECTION_LIMIT);
      }
      c.authenticate(id);
      // the claim narrows what was subscribed anonymously; a T.* that stays now carries the user's private records too
      List<String> revoked = revokeUnpermitted(c, id);
      index.authenticated(c);
      stats.accepted();
      return Replies.authAck(id.subject(), id.expiresAtMillis(), revoked);
    }
    if (!current.subject().equals(id.subject())) {
      return authError(c, Refusal.SUBJECT_MISMATCH);
    }
    c.authenticate(id);
    stats.refreshed();
    return Replies.authAck(id.subject(), id.expiresAtMillis(), revokeUnpermitted(c, id));
  }

  /** Ends {@code c}'s subscriptions that {@code id}'s channels claim does not permit. @return them */
  private List<String> revokeUnpermitted(Connection c, Identity id) {
    List<String> revoked = new ArrayList<>();
    for (String channel : c.channels()) {
      if (!id.permits(channel)) {
        revoked.add(channel);
      }
    }
    for (String channel : revoked) {
      index.remove(c, channel);
    }
    return revoked;
  }

  /** The sweep's check: how {@code c} must end for want of a valid identity, or null. */
  Disconnect due(Connection c, long nowNanos) {
    if (!enabled()) {
      return null;
    }
    Identity id = c.identity();
    if (id != null) {
      return id.expiresAtMillis() != Long.MAX_VALUE && id.expired(System.currentTimeMillis()) ? Disconnect.TOKEN_EXPIRED : null;
    }
    return config.mode() == AuthMode.REQUIRED && nowNanos - c.upgradedAtNanos() > timeoutNanos ? Disconnect.AUTH_TIMEOUT : null;
  }

  private Refusal refused(Connection c, Refusal why) {
    stats.refused(why);
    LOG.debug("event=auth_refused shard={} remote={} reason={}", c.shardId(), c.channel().remoteAddress(), why.label());
    return why;
  }

  private String authError(Connection c, Refusal why) {
    refused(c, why);
    return Replies.authError(why.code(), why.message());
  }

  /** The reason shown in a subscription ack's {@code rejected} list. */
  static String reason(AuthStats.SubscriptionRefusal why) {
    return switch (why) {
      case AUTH_REQUIRED -> "authentication required: send {\"type\":\"auth\"} first";
      case PRIVATE -> "private channel: authenticate first";
      case NOT_PERMITTED -> "not permitted by the token";
    };
  }
}
