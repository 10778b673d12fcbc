package io.odinws.bus;

import io.odinws.internal.VertxInternals;
import io.vertx.core.Handler;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.eventbus.MessageConsumerOptions;

/** The one address between the ingest worker and the shards, and how each side uses it. */
public final class BatchBus {

  public static final String ADDRESS = "odin.batches";
  private static final DeliveryOptions PUBLISH = new DeliveryOptions().setLocalOnly(true).setCodecName(FrameBatchCodec.NAME);

  private BatchBus() {
  }

  /** Registers the codec once per Vert.x instance (idempotent). */
  public static void registerCodec(EventBus bus) {
    try {
      bus.registerCodec(new FrameBatchCodec());
    } catch (IllegalStateException alreadyRegistered) {
      // a redeploy in the same Vert.x instance: the codec is already there
    }
  }

  /** Publishes to every shard and drops the caller's own reference. */
  public static void publish(EventBus bus, FrameBatch batch) {
    try {
      bus.publish(ADDRESS, batch, PUBLISH);
    } finally {
      batch.release();
    }
  }

  /**
   * A shard's subscription: {@code handler} owns one reference of each batch and must release it.
   * Batches the bus discards (consumer queue full, or unregistered) are released here and counted.
   */
  public static MessageConsumer<FrameBatch> consume(EventBus bus, int maxQueuedBatches, Handler<FrameBatch> handler, Runnable onDiscard) {
    MessageConsumer<FrameBatch> consumer = bus.consumer(new MessageConsumerOptions()
        .setAddress(ADDRESS).setLocalOnly(true).setMaxBufferedMessages(maxQueuedBatches));
    // Without a discard handler a discarded batch would never be released (checked at startup).
    VertxInternals.discardHandler(consumer, msg -> {
      msg.body().release();
      onDiscard.run();
    });
    consumer.handler(msg -> handler.handle(msg.body()));
    return consumer;
  }
}
