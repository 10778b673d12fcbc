package io.odinws.router;

import io.odinws.internal.NativeListener;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * Takes connections off the prebound port's accept queue while the rest of the server starts, and holds them until
 * the router adopts the port. The kernel caps that queue at {@code net.core.somaxconn} (4,096 by default); a connect
 * that finds it full loses its SYN, which the client's TCP sends again only a second later, so a few thousand clients
 * reconnecting to a restarting server would otherwise come back in waves a second apart. A held connection is a
 * descriptor and its kernel buffers: the client's upgrade request waits there and is answered once the router
 * hands the connection to a shard.
 *
 * <p>One daemon thread, {@code odin-early-accept}, polls the non-blocking socket every 5 ms while nothing waits: a
 * steady stream of connects does not fill a queue of thousands in that time (a burst larger than the queue is
 * dropped whatever the period), and polling every millisecond slowed the start it shares a core with. Owns the
 * accepted descriptors until {@link #stop} returns them; after that the caller owns them.
 */
final class EarlyAcceptor {

  private static final Logger LOG = LoggerFactory.getLogger(EarlyAcceptor.class);
  private static final long POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(5);

  private final NativeListener listener;
  private final int max;
  private final Thread thread;
  /** Written by the thread only; read by {@link #stop} after joining it. */
  private int[] held = new int[256];
  private int count;
  private volatile boolean stopping;

  /** @param max at most this many connections held: the rest wait in the kernel's queue, as before */
  EarlyAcceptor(NativeListener listener, int max) {
    this.listener = listener;
    this.max = max;
    this.thread = new Thread(this::run, "odin-early-accept");
    thread.setDaemon(true);
    thread.start();
  }

  private void run() {
    while (!stopping && count < max) {
      int fd;
      try {
        fd = listener.acceptNow();
      } catch (IOException e) {
        // out of descriptors or the socket closed: leave what still comes to the queue and the router
        LOG.warn("event=early_accept_stopped held={} error=\"{}\"", count, e.getMessage());
        return;
      }
      if (fd < 0) {
        LockSupport.parkNanos(POLL_NANOS);
        continue;
      }
      if (count == held.length) {
        held = Arrays.copyOf(held, count * 2);
      }
      held[count++] = fd;
    }
  }

  /** Stops accepting and returns the connections held, in the order they were accepted; the caller owns them. */
  int[] stop() {
    stopping = true;
    boolean interrupted = false;
    while (thread.isAlive()) {
      try {
        thread.join();
      } catch (InterruptedException e) {
        interrupted = true; // the thread ends within a poll; keep waiting, then restore the flag
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
    int[] taken = Arrays.copyOf(held, count);
    count = 0;
    return taken;
  }
}
