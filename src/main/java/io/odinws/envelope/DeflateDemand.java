package io.odinws.envelope;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * How many open connections negotiated permessage-deflate, across every shard: the ingest compresses messages only
 * while one does. A connection that negotiates just after a message was read gets that message uncompressed,
 * which the extension allows per message. Thread-safe.
 */
public final class DeflateDemand {

  private final AtomicInteger connections = new AtomicInteger();

  public void opened() {
    connections.incrementAndGet();
  }

  public void closed() {
    connections.decrementAndGet();
  }

  public boolean any() {
    return connections.get() > 0;
  }

  public int connections() {
    return connections.get();
  }
}
