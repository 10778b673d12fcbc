package io.odinws.shard;

import io.netty.buffer.ByteBuf;
import io.netty.channel.EventLoop;
import io.odinws.bus.FrameBatch;
import io.odinws.envelope.ChannelKeys;
import io.odinws.envelope.OutboundMessage;
import io.odinws.internal.WriteVector;
import io.odinws.stats.ServerMeters;
import io.odinws.stats.ShardStats;

import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * A shard's delivery of batches to its subscribers: per message, its subscribers by exact channel
 * and both wildcards (for a private record, only its owners' subscriptions); per delivery, a
 * reference in the connection's pending frames (no copy, no encoding, no reference count, no
 * allocation); per message, one reference held until the flush.
 * The flush runs as its own loop task after the batches already queued, so under load several
 * batches share one syscall per connection. On the shard's loop only.
 */
final class FanOut {

  /** Bounds what waits for a flush: the connections' pending arrays and how long the first of them waits. */
  private static final int MAX_UNFLUSHED_WRITES = 1 << 16;

  private final SubscriptionIndex index;
  private final ShardStats stats;
  private final ServerMeters meters;
  private final EventLoop loop;
  private final long flushDelayNanos;
  /** The scratch vector of every direct {@code writev} on this loop; owned here, released by {@link #stop}. */
  private WriteVector vector = new WriteVector(Connection.MAX_DIRECT_FRAMES);
  /** Connections written to since the last flush. */
  private Connection[] dirty = new Connection[64];
  private int dirtyCount;
  /** Frames written since the last flush; past {@link #MAX_UNFLUSHED_WRITES} the batch flushes inline. */
  private int unflushedWrites;
  private boolean flushScheduled;
  private final Runnable flushTask = this::flush;
  /**
   * One reference to each frame queued on a connection since the last flush (connections take none):
   * taken per message, not per delivery, and released when the flush has run.
   */
  private ByteBuf[] held = new ByteBuf[64];
  private int heldCount;
  /** When each batch written since the last flush was received, for the delivery-latency histogram. */
  private long[] unflushedReceivedAt = new long[16];
  private int unflushedBatches;
  /** Increases per message that has wildcard subscribers; see {@link Connection#firstDelivery}. */
  private long stamp;
  /** The category wildcard keys ({@code *.<category>}) of the categories delivered {@code latest}. */
  private final Set<String> latestCategories;
  /** Messages the shard's connections keep for their next drain (see {@link Connection#offer}). */
  private long kept;
  /** Writes of the message being fanned out to connections that negotiated compression (see {@link #bytesWritten}). */
  private int deflatedWritten;
  /** Kept messages replaced by newer ones during the current batch; added to the stats once per batch. */
  private long conflated;

  FanOut(SubscriptionIndex index, ShardStats stats, ServerMeters meters, EventLoop loop, long flushDelayMicros,
         Set<String> latestCategories) {
    this.latestCategories = Set.copyOf(latestCategories);
    this.index = index;
    this.stats = stats;
    this.meters = meters;
    this.loop = loop;
    this.flushDelayNanos = TimeUnit.MICROSECONDS.toNanos(flushDelayMicros);
  }

  /** The scratch vector for a flush outside the fan-out (replies, replays); null once stopped. */
  WriteVector vector() {
    return vector;
  }

  /** Queues every message of the batch on its subscribers and schedules one flush. Releases the batch. */
  void onBatch(FrameBatch batch) {
    long delivered = 0;
    long privateDelivered = 0;
    long bytes = 0;
    try {
      for (OutboundMessage m : batch.messages()) {
        ChannelKeys keys = m.keys();
        List<String> owners = m.owners();
        boolean latest = !latestCategories.isEmpty() && latestCategories.contains(keys.categoryWildcard());
        if (owners != null) {
          int n = deliverPrivate(keys, owners, m, latest);
          if (n > 0) {
            holdUntilFlush(m);
          }
          delivered += n;
          privateDelivered += n;
          bytes += bytesWritten(m, n);
          continue;
        }
        Subscribers exact = index.get(keys.channel());
        Subscribers byToken = index.get(keys.tokenWildcard());
        Subscribers byCategory = index.get(keys.categoryWildcard());
        int n;
        if (byToken == null && byCategory == null) {
          // the common case: a connection is at most once in one list, no de-duplication needed
          n = exact == null ? 0 : deliver(exact, m, latest, false);
        } else {
          stamp++;
          n = deliver(exact, m, latest, true) + deliver(byToken, m, latest, true) + deliver(byCategory, m, latest, true);
        }
        if (n > 0) {
          holdUntilFlush(m);
        }
        delivered += n;
        bytes += bytesWritten(m, n);
      }
    } finally {
      batch.release();
      // liveness: a loop that is behind still finishes batches; the sweep's timer would queue behind them
      stats.progressed(System.nanoTime());
      if (privateDelivered > 0) {
        stats.addPrivateDelivered(privateDelivered);
      }
      if (conflated > 0) {
        stats.addConflated(conflated);
        conflated = 0;
      }
      if (delivered > 0) {
        stats.addSent(delivered, bytes);
        unflushedWrites += (int) Math.min(delivered, MAX_UNFLUSHED_WRITES);
        if (unflushedBatches == unflushedReceivedAt.length) {
          unflushedReceivedAt = Arrays.copyOf(unflushedReceivedAt, unflushedBatches * 2);
        }
        unflushedReceivedAt[unflushedBatches++] = batch.receivedAtMillis();
      }
      if (unflushedWrites >= MAX_UNFLUSHED_WRITES) {
        flush();
      } else if (dirtyCount > 0 && !flushScheduled) {
        flushScheduled = true;
        if (flushDelayNanos == 0) {
          loop.execute(flushTask);
        } else {
          loop.schedule(flushTask, flushDelayNanos, TimeUnit.NANOSECONDS);
        }
      }
    }
  }

  /**
   * A private record: never the public lists; per owner, the owner's connections by exact channel and both
   * wildcards, each reached once (one stamp for the whole record).
   */
  private int deliverPrivate(ChannelKeys keys, List<String> owners, OutboundMessage m, boolean latest) {
    stamp++;
    int n = 0;
    for (int i = 0, count = owners.size(); i < count; i++) {
      String owner = owners.get(i);
      n += deliver(index.get(keys.channel(), owner), m, latest, true)
          + deliver(index.get(keys.tokenWildcard(), owner), m, latest, true)
          + deliver(index.get(keys.categoryWildcard(), owner), m, latest, true);
    }
    return n;
  }

  /**
   * @param latest the message's category is delivered {@code latest} (a slow connection keeps it instead)
   * @param dedupe skip connections this message already reached through another key
   */
  private int deliver(Subscribers subs, OutboundMessage m, boolean latest, boolean dedupe) {
    if (subs == null) {
      return 0;
    }
    int written = 0;
    Connection[] items = subs.items();
    for (int i = 0, n = subs.size(); i < n; i++) {
      Connection c = items[i];
      if (dedupe && !c.firstDelivery(stamp)) {
        continue;
      }
      if (!c.offer(m, latest)) {
        continue; // closing, held back by its recovery gate, or kept by a slow connection
      }
      written++;
      if (c.deflates()) {
        deflatedWritten++;
      }
      if (c.markDirty()) {
        if (dirtyCount == dirty.length) {
          dirty = Arrays.copyOf(dirty, dirtyCount * 2);
        }
        dirty[dirtyCount++] = c;
      }
    }
    return written;
  }

  /**
   * The bytes of {@code n} writes of {@code m}, of which {@link #deflatedWritten} went to connections that negotiated
   * compression: those got its compressed frame when it has one.
   */
  private long bytesWritten(OutboundMessage m, int n) {
    int compressed = m.deflated() == null ? 0 : Math.min(deflatedWritten, n);
    deflatedWritten = 0;
    return (long) (n - compressed) * m.frame().readableBytes() + (compressed == 0 ? 0 : (long) compressed * m.deflated().readableBytes());
  }

  /** A slow connection replaced a kept message with a newer one of its channel (one skipped). */
  void conflated() {
    conflated++;
  }

  /** A connection kept {@code delta} more (or fewer) messages for its next drain. */
  void keptChanged(int delta) {
    if (delta != 0) {
      kept += delta;
      stats.keptMessages(kept);
    }
  }

  /** Keeps the message's frames (and its compressed one) alive until the next flush has written them to its connections. */
  private void holdUntilFlush(OutboundMessage m) {
    holdUntilFlush(m.frame());
    if (m.deflated() != null) {
      holdUntilFlush(m.deflated());
    }
  }

  /** Keeps {@code frame} alive until the next flush has written it to its connections. */
  private void holdUntilFlush(ByteBuf frame) {
    if (heldCount == held.length) {
      held = Arrays.copyOf(held, heldCount * 2);
    }
    held[heldCount++] = frame.retain();
  }

  /** Flushes every connection written since the last flush: one syscall each for all their frames. */
  void flush() {
    flushScheduled = false;
    for (int i = 0; i < dirtyCount; i++) {
      Connection c = dirty[i];
      dirty[i] = null;
      c.flushFanOut(vector);
    }
    // every pending frame is now in a socket or in Netty's queue (which holds its own references)
    for (int i = 0; i < heldCount; i++) {
      held[i].release();
      held[i] = null;
    }
    heldCount = 0;
    stats.addSocketFlushes(dirtyCount);
    dirtyCount = 0;
    unflushedWrites = 0;
    long now = System.currentTimeMillis();
    for (int i = 0; i < unflushedBatches; i++) {
      meters.deliveryLatency().record(now - unflushedReceivedAt[i], TimeUnit.MILLISECONDS);
    }
    unflushedBatches = 0;
  }

  /** Flushes what is pending (releasing the held frames) and frees the vector; later flushes go through Netty's queue. */
  void stop() {
    flush();
    vector.release();
    vector = null;
  }
}
