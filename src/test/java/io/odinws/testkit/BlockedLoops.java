package io.odinws.testkit;

import io.netty.util.concurrent.EventExecutor;
import io.odinws.internal.VertxInternals;
import io.vertx.core.Vertx;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every event loop of a Vert.x pool held in one task, as a fan-out to thousands of clients would
 * hold a shard's loop, until {@link #close()} (or 60 s, so a failed test cannot leave them held).
 */
public final class BlockedLoops implements AutoCloseable {

  private final CountDownLatch release = new CountDownLatch(1);
  private final List<EventExecutor> loops = new ArrayList<>();

  private BlockedLoops() {
  }

  /** Returns once every loop of {@code vertx}'s pool runs the blocking task. */
  public static BlockedLoops all(Vertx vertx) throws InterruptedException {
    BlockedLoops b = new BlockedLoops();
    VertxInternals.eventLoopPool(vertx).forEach(b.loops::add);
    CountDownLatch blocked = new CountDownLatch(b.loops.size());
    for (EventExecutor loop : b.loops) {
      loop.execute(() -> {
        blocked.countDown();
        try {
          b.release.await(60, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      });
    }
    assertTrue(blocked.await(30, TimeUnit.SECONDS), "every loop of the pool is blocked");
    return b;
  }

  /** The loops held. */
  public List<EventExecutor> loops() {
    return loops;
  }

  @Override
  public void close() {
    release.countDown();
  }
}
