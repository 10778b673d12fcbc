package io.odinws.stats;

/** Process-wide lifecycle flags, read by the router, health and readiness from any thread. */
public final class ServerState {

  private volatile boolean draining;
  private final java.util.concurrent.atomic.AtomicLong configRejected = new java.util.concurrent.atomic.AtomicLong();
  private final java.util.concurrent.atomic.AtomicLong reconfigured = new java.util.concurrent.atomic.AtomicLong();

  /** A changed configuration file was invalid and not applied. */
  public void configRejected() {
    configRejected.incrementAndGet();
  }

  public long configRejectedCount() {
    return configRejected.get();
  }

  /** A configuration change was applied. */
  public void reconfigured() {
    reconfigured.incrementAndGet();
  }

  public long reconfiguredCount() {
    return reconfigured.get();
  }

  public void startDraining() {
    draining = true;
  }

  /** Shutting down: readiness is false and new sockets are refused with 503 "Server is shutting down". */
  public boolean draining() {
    return draining;
  }
}
