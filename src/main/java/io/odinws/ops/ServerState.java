package io.odinws.ops;

/** Process-wide lifecycle flags, read by the router, health and readiness from any thread. */
public final class ServerState {

  private volatile boolean draining;

  public void startDraining() {
    draining = true;
  }

  /** Shutting down: readiness is false and new sockets are refused with 503 "Server is shutting down". */
  public boolean draining() {
    return draining;
  }
}
