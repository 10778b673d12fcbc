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
 * The flush runs as loop tasks of {@link #FLUSH_CHUNK} connections each, after the batches already queued: a batch
 * that arrives while a flush is under way is queued between two chunks, and the connections not flushed yet take it
 * in the same syscall as the batch before (those already flushed join the end of the same flush). Under load several
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
  /**
   * Connections flushed per loop task. Small enough that a batch arriving during a fan-out waits for one chunk, not
   * for the whole fan-out; large enough that the task hop costs nothing next to the chunk's syscalls.
   */
  static final int FLUSH_CHUNK = 256;

  /**
   * Connections written to since the flush started, in order: {@code dirty[flushed..dirtyCount)} wait for it. A
   * connection is listed once until it is flushed; written to again afterwards, it is listed again at the end.
   */
  private Connection[] dirty = new Connection[64];
  private int dirtyCount;
  private int flushed;
  /** Frames written since the flush started; past {@link #MAX_UNFLUSHED_WRITES} the batch flushes everything inline. */
  private int unflushedWrites;
  /** A flush task is queued on the loop. */
  private boolean flushScheduled;
  private final Runnable flushTask = this::flushChunk;
  /**
   * One reference to each frame queued on a connection since the flush started (connections take none): taken per
   * message, not per delivery; {@code held[heldReleased..heldCount)} are released batch by batch as the flush passes
   * the last connection each batch wrote to.
   */
  private ByteBuf[] held = new ByteBuf[64];
  private int heldCount;
  private int heldReleased;
  /**
   * The batches written since the flush started, oldest first, from {@code batchDone} on still being flushed: when
   * each was received (for the delivery-latency histogram), and where its connections and held frames end.
   */
  private long[] batchReceivedAt = new long[16];
  private int[] batchDirtyEnd = new int[16];
  private int[] batchHeldEnd = new int[16];
  private int batchCount;
  private int batchDone;
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
        addFlushedBatch(batch.receivedAtMillis());
      }
      if (unflushedWrites >= MAX_UNFLUSHED_WRITES) {
        flush();
      } else if (dirtyCount > flushed && !flushScheduled) {
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

  /** Notes a batch just written: it is flushed once the flush has passed the connections listed so far. */
  private void addFlushedBatch(long receivedAtMillis) {
    if (batchCount == batchReceivedAt.length) {
      batchReceivedAt = Arrays.copyOf(batchReceivedAt, batchCount * 2);
      batchDirtyEnd = Arrays.copyOf(batchDirtyEnd, batchCount * 2);
      batchHeldEnd = Arrays.copyOf(batchHeldEnd, batchCount * 2);
    }
    batchReceivedAt[batchCount] = receivedAtMillis;
    batchDirtyEnd[batchCount] = dirtyCount;
    batchHeldEnd[batchCount] = heldCount;
    batchCount++;
  }

  /** The flush task: the next {@link #FLUSH_CHUNK} connections, then the rest in later tasks, behind what queued meanwhile. */
  private void flushChunk() {
    flushScheduled = false;
    flushTo(Math.min(dirtyCount, flushed + FLUSH_CHUNK));
    if (flushed < dirtyCount) {
      flushScheduled = true;
      loop.execute(flushTask);
    }
  }

  /** Flushes every connection written to and not flushed yet, now: one syscall each for all their frames. */
  void flush() {
    flushTo(dirtyCount);
  }

  /** Flushes {@code dirty[flushed..end)}, then finishes the batches whose every connection is flushed. */
  private void flushTo(int end) {
    for (int i = flushed; i < end; i++) {
      Connection c = dirty[i];
      dirty[i] = null;
      c.flushFanOut(vector);
    }
    stats.addSocketFlushes(end - flushed);
    flushed = end;
    long now = 0;
    while (batchDone < batchCount && batchDirtyEnd[batchDone] <= flushed) {
      if (now == 0) {
        now = System.currentTimeMillis();
      }
      meters.deliveryLatency().record(now - batchReceivedAt[batchDone], TimeUnit.MILLISECONDS);
      // its frames are now in the sockets or in Netty's queues (which hold their own references)
      for (int h = heldReleased, heldEnd = batchHeldEnd[batchDone]; h < heldEnd; h++) {
        held[h].release();
        held[h] = null;
      }
      heldReleased = batchHeldEnd[batchDone];
      batchDone++;
    }
    if (flushed == dirtyCount) {
      // every listed connection is flushed, so every batch is done: start over at the arrays' start
      dirtyCount = 0;
      flushed = 0;
      heldCount = 0;
      heldReleased = 0;
      batchCount = 0;
      batchDone = 0;
      unflushedWrites = 0;
    }
  }

  /** Flushes what is pending (releasing the held frames) and frees the vector; later flushes go through Netty's queue. */
  void stop() {
    flush();
    vector.release();
    vector = null;
  }
}
