package io.odinws.shard.admission;

import io.odinws.ratelimit.HeldCounts;

import java.net.InetAddress;

/**
 * The per-address socket count one socket holds, if any: taken by {@link Admission#accept} or
 * {@link Admission#check}, given back once by {@link #release}, whichever way the socket ends. One per
 * socket, touched only on its shard's loop.
 */
public final class AddressHold {

  private HeldCounts<InetAddress> counts;
  private InetAddress address;

  /** Counts against {@code address} until released. */
  void hold(HeldCounts<InetAddress> counts, InetAddress address) {
    this.counts = counts;
    this.address = address;
  }

  /** Whether this socket is counted against an address. */
  public boolean holds() {
    return address != null;
  }

  /** Gives the count back; later calls do nothing. */
  public void release() {
    InetAddress a = address;
    if (a != null) {
      address = null;
      counts.release(a);
    }
  }
}
