package io.odinws.auth;

import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Authentication outcomes and refused subscriptions, server-wide: written from every shard's loop
 * (once per authentication or subscription, never per delivery), read by the metrics.
 */
public final class AuthStats {

  /** Why a subscription was refused for identity reasons; the metric's {@code reason} label. */
  public enum SubscriptionRefusal {
    AUTH_REQUIRED("auth_required"), PRIVATE("private"), NOT_PERMITTED("not_permitted");

    public final String label;

    SubscriptionRefusal(String label) {
      this.label = label;
    }
  }

  private static final int OK = Refusal.values().length;
  private static final int REFRESH = OK + 1;

  private final AtomicLongArray results = new AtomicLongArray(REFRESH + 1);
  private final AtomicLongArray subscriptionsRefused = new AtomicLongArray(SubscriptionRefusal.values().length);

  /** A first authentication of a connection succeeded. */
  public void accepted() {
    results.incrementAndGet(OK);
  }

  /** A refresh (a new token for the same sub) succeeded. */
  public void refreshed() {
    results.incrementAndGet(REFRESH);
  }

  public void refused(Refusal why) {
    results.incrementAndGet(why.ordinal());
  }

  public void subscriptionRefused(SubscriptionRefusal why) {
    subscriptionsRefused.incrementAndGet(why.ordinal());
  }

  public long accepted(boolean refresh) {
    return results.get(refresh ? REFRESH : OK);
  }

  public long refusals(Refusal why) {
    return results.get(why.ordinal());
  }

  public long subscriptionsRefused(SubscriptionRefusal why) {
    return subscriptionsRefused.get(why.ordinal());
  }
}
