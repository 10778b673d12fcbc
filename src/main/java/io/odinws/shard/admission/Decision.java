package io.odinws.shard.admission;

/**
 * Outcome of {@link Admission#check}. {@link #ADMIT} is a shared constant and the fixed refusals are
 * preallocated, so the per-request path allocates nothing.
 *
 * @param status            HTTP status to answer with (0 for {@link #ADMIT}: go on with the upgrade)
 * @param body              plain-text body, without trailing newline
 * @param retryAfterSeconds value for {@code Retry-After}; 0 means send no header
 * @param reason            metric label, one of {@link Admission#REASONS}; null for {@link #ADMIT}
 */
public record Decision(int status, String body, int retryAfterSeconds, String reason) {

  public static final Decision ADMIT = new Decision(0, "", 0, null);

  public boolean admitted() {
    return reason == null;
  }
}
