package io.odinws.shard;

import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.odinws.bus.BatchBus;
import io.odinws.bus.FrameBatch;
import io.odinws.config.OdinConfig;
import io.odinws.internal.VertxInternals;
import io.odinws.router.ShardSlot;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.MessageConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;

/**
 * A shard's lifecycle on its own event loop: joins the bus and the router at start, runs the
 * once-a-second sweep, drains and leaves at stop. The work itself is {@link Shard}'s.
 */
public final class ShardVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(ShardVerticle.class);
  private static final long SWEEP_INTERVAL_MS = 1_000;
  /** Batches the bus may queue for a shard before it drops one and the shard sheds its clients. */
  private static final int MAX_QUEUED_BATCHES = 10_000;

  private final int id;
  private final OdinConfig config;
  private final ShardServices services;
  private EventLoop loop;
  private Shard shard;
  private ShardSlot slot;
  private MessageConsumer<FrameBatch> consumer;
  private long sweepTimer = -1;

  public ShardVerticle(int id, OdinConfig config, ShardServices services) {
    this.id = id;
    this.config = config;
    this.services = services;
  }

  public int id() {
    return id;
  }

  public EventLoop eventLoop() {
    return loop;
  }

  public ShardSlot slot() {
    return slot;
  }

  /** The shard's sockets, read on its own loop (for operations and tests). */
  public Future<List<Channel>> channels() {
    Promise<List<Channel>> result = Promise.promise();
    loop.execute(() -> result.complete(shard.channels()));
    return result.future();
  }

  @Override
  public Future<?> start() {
    loop = VertxInternals.eventLoop(context);
    shard = new Shard(id, config, services, loop);
    consumer = BatchBus.consume(vertx.eventBus(), MAX_QUEUED_BATCHES, shard::onBatch, () -> shard.shed(MAX_QUEUED_BATCHES));
    sweepTimer = vertx.setPeriodic(SWEEP_INTERVAL_MS, t -> shard.sweep());
    slot = new ShardSlot(id, loop, config.maxConnectionsOfShard(id), shard::initChannel, shard.stats());
    return consumer.completion().onSuccess(v -> {
      services.registry().add(slot);
      LOG.info("event=shard_started shard={} max_connections={} thread={}", id, slot.maxConnections(), Thread.currentThread().getName());
    });
  }

  /**
   * Leaves the router (nothing new lands here), ends every connection with {@code why}, and
   * completes when the last socket is gone. Callers bound the wait.
   */
  public Future<Void> drain(Disconnect why) {
    Promise<Void> done = Promise.promise();
    loop.execute(() -> {
      services.registry().remove(slot);
      shard.drain(why, done);
    });
    return done.future();
  }

  @Override
  public Future<?> stop() {
    services.registry().remove(slot);
    vertx.cancelTimer(sweepTimer);
    shard.stop();
    return consumer.unregister();
  }
}
