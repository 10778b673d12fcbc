package io.odinws.recovery;

import io.netty.buffer.ByteBuf;
import io.odinws.envelope.OutboundMessage;
import io.odinws.config.RecoveryConfig;
import io.odinws.envelope.FrameEncoder;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Recent messages per partition, shared by every shard (PROTOCOL.md section 6): the live frames
 * the ingest worker already encoded, kept (one added reference each) until the byte budget or the
 * age limit evicts them. The ingest worker records each poll here before it publishes the poll, so
 * whatever a shard has delivered is already here; shards read snapshots to replay from.
 *
 * <p>Each partition knows the offsets it covers, {@code [start, next)}: every record in that range,
 * valid or skipped, went through the ingest worker, so a replay from inside it is complete.
 * Locking is per partition and brief: one append per record from the ingest thread, one copy per
 * recovery request from a shard; never on the delivery path.
 */
public final class History {

  private final RecoveryConfig config;
  private final FrameEncoder replayEncoder;
  private final Map<String, PartitionHistory[]> byTopic = new ConcurrentHashMap<>();
  private volatile long budgetPerPartition;

  public History(RecoveryConfig config, FrameEncoder replayEncoder) {
    this.config = config;
    this.replayEncoder = replayEncoder;
  }

  /** Called once the partitions are known (ingest assignment). */
  public void partitions(Map<String, Integer> partitionsByTopic) {
    int total = 0;
    for (Map.Entry<String, Integer> e : partitionsByTopic.entrySet()) {
      byTopic.computeIfAbsent(e.getKey(), t -> {
        PartitionHistory[] ps = new PartitionHistory[e.getValue()];
        for (int i = 0; i < ps.length; i++) {
          ps[i] = new PartitionHistory();
        }
        return ps;
      });
      total += e.getValue();
    }
    budgetPerPartition = config.historyBytes() / Math.max(1, total);
  }

  /** Where consumption of a partition starts (after the ingest worker's seek): coverage begins there. */
  public void begin(String topic, int partition, long offset) {
    PartitionHistory p = partition(topic, partition);
    if (p != null) {
      p.begin(offset);
    }
  }

  /** The number of partitions of {@code topic}, or 0 when unknown. */
  public int partitionCount(String topic) {
    PartitionHistory[] ps = byTopic.get(topic);
    return ps == null ? 0 : ps.length;
  }

  /**
   * Records that the ingest worker processed {@code offset} of a partition; {@code message} is its
   * live message, or null when the record was skipped. Takes its own reference of the frame.
   */
  public void record(String topic, int partition, long offset, OutboundMessage message, long nowMillis) {
    PartitionHistory p = partition(topic, partition);
    if (p != null) {
      p.record(offset, message, nowMillis, budgetPerPartition, config.historyMaxAgeMs());
    }
  }

  /** The next offset the ingest worker will process in a partition (-1: none yet). */
  public long nextOffset(String topic, int partition) {
    PartitionHistory p = partition(topic, partition);
    return p == null ? -1 : p.next();
  }

  /** Drops what has outlived the age limit, for partitions that receive nothing new. */
  public void evictExpired(long nowMillis) {
    for (PartitionHistory[] ps : byTopic.values()) {
      for (PartitionHistory p : ps) {
        p.evictExpired(nowMillis, config.historyMaxAgeMs());
      }
    }
  }

  /**
   * The messages of {@code channel} in a partition with offsets after {@code afterOffset}, as replay
   * frames (built once per message and cached), with the range the history covered at that moment.
   * Ownership: the caller owns one reference of every frame in the snapshot.
   */
  public Snapshot after(String topic, int partition, long afterOffset, String channel, int max) {
    return after(topic, partition, afterOffset, channel, max, null);
  }

  /**
   * As {@link #after(String, int, long, String, int)}, for a connection authenticated as {@code subject}
   * (null: anonymous): a private record is in the snapshot (and counts towards {@code max}) only when
   * {@code subject} is one of its owners.
   */
  public Snapshot after(String topic, int partition, long afterOffset, String channel, int max, String subject) {
    PartitionHistory p = partition(topic, partition);
    if (p == null) {
      return new Snapshot(List.of(), -1, -1, false);
    }
    return p.after(afterOffset, channel, max, subject, replayEncoder);
  }

  /**
   * The last {@code max} messages of {@code channel} in a partition with offsets before {@code untilOffset}
   * (for {@code subject}, as in {@link #after(String, int, long, String, int, String)}), as snapshot frames
   * (built once per message and cached), in offset order, with the range the history covered at that
   * moment; {@code truncated}: {@code max} were found (older ones may exist). Ownership: the caller owns
   * one reference of every frame in the snapshot.
   */
  public Snapshot lastBefore(String topic, int partition, long untilOffset, String channel, int max, String subject) {
    PartitionHistory p = partition(topic, partition);
    if (p == null) {
      return new Snapshot(List.of(), -1, -1, false);
    }
    return p.lastBefore(untilOffset, channel, max, subject, replayEncoder);
  }

  /** A snapshot frame of a live or replay frame (a new buffer the caller owns; {@code frame} untouched). */
  ByteBuf snapshotOf(ByteBuf frame) {
    return replayEncoder.snapshotOf(frame);
  }

  /** Bytes of live frames held, all partitions. */
  public long bytes() {
    long sum = 0;
    for (PartitionHistory[] ps : byTopic.values()) {
      for (PartitionHistory p : ps) {
        sum += p.bytes();
      }
    }
    return sum;
  }

  /** Releases every frame held. */
  public void clear() {
    for (PartitionHistory[] ps : byTopic.values()) {
      for (PartitionHistory p : ps) {
        p.clear();
      }
    }
  }

  private PartitionHistory partition(String topic, int partition) {
    PartitionHistory[] ps = byTopic.get(topic);
    return ps == null || partition < 0 || partition >= ps.length ? null : ps[partition];
  }

  /**
   * A recovery's view of one partition.
   *
   * @param messages   replay frames of the channel after the asked offset ({@link #after}), or snapshot frames of
   *                   the last ones before it ({@link #lastBefore}), in offset order (owned by the caller)
   * @param start      the first offset the history covered (-1: nothing yet)
   * @param next       the offset after the last one it covered
   * @param truncated  more messages matched than {@code max} ({@link #after}); {@code max} were found ({@link #lastBefore})
   */
  public record Snapshot(List<OutboundMessage> messages, long start, long next, boolean truncated) {

    public void release() {
      messages.forEach(m -> m.frame().release());
    }
  }

  /** One partition's entries, oldest first. */
  private static final class PartitionHistory {

    private static final class Entry {
      final OutboundMessage live;
      final long atMillis;
      ByteBuf replay; // built on first use, shared by every later replay of it
      ByteBuf snapshot; // likewise for snapshots on subscribe

      Entry(OutboundMessage live, long atMillis) {
        this.live = live;
        this.atMillis = atMillis;
      }

      void release() {
        live.frame().release();
        if (replay != null) {
          replay.release();
        }
        if (snapshot != null) {
          snapshot.release();
        }
      }
    }

    private final ArrayDeque<Entry> entries = new ArrayDeque<>();
    private long start = -1;
    private long next = -1;
    private long bytes;

    synchronized void record(long offset, OutboundMessage message, long nowMillis, long budget, long maxAgeMs) {
      if (start < 0 || offset != next) {
        // the first record seen, or a jump (the ingest worker re-positioned): coverage restarts here
        clear();
        start = offset;
      }
      next = offset + 1;
      if (message != null) {
        message.frame().retain();
        entries.addLast(new Entry(message, nowMillis));
        bytes += message.frame().readableBytes();
      }
      while (!entries.isEmpty() && (bytes > budget || entries.peekFirst().atMillis < nowMillis - maxAgeMs)) {
        evictOldest();
      }
    }

    synchronized void evictExpired(long nowMillis, long maxAgeMs) {
      while (!entries.isEmpty() && entries.peekFirst().atMillis < nowMillis - maxAgeMs) {
        evictOldest();
      }
    }

    private void evictOldest() {
      Entry e = entries.pollFirst();
      bytes -= e.live.frame().readableBytes();
      start = e.live.offset() + 1;
      e.release();
    }

    synchronized Snapshot after(long afterOffset, String channel, int max, String subject, FrameEncoder encoder) {
      List<OutboundMessage> out = new ArrayList<>();
      boolean truncated = false;
      // Oldest first; a linear scan is fine here: this is the recovery path, not the delivery path.
      Iterator<Entry> it = entries.iterator();
      while (it.hasNext()) {
        Entry e = it.next();
        if (e.live.offset() <= afterOffset || !e.live.channel().equals(channel) || !e.live.isFor(subject)) {
          continue;
        }
        if (out.size() == max) {
          truncated = true;
          break;
        }
        if (e.replay == null) {
          e.replay = encoder.replayOf(e.live.frame());
        }
        out.add(new OutboundMessage(e.live.keys(), e.live.partition(), e.live.offset(), e.replay.retainedDuplicate(),
            e.live.owners()));
      }
      return new Snapshot(out, start, next, truncated);
    }

    synchronized Snapshot lastBefore(long untilOffset, String channel, int max, String subject, FrameEncoder encoder) {
      List<OutboundMessage> out = new ArrayList<>(Math.min(max, 64));
      // Newest first, then reversed: the last max matches are near the end.
      Iterator<Entry> it = entries.descendingIterator();
      while (it.hasNext() && out.size() < max) {
        Entry e = it.next();
        if (e.live.offset() >= untilOffset || !e.live.channel().equals(channel) || !e.live.isFor(subject)) {
          continue;
        }
        if (e.snapshot == null) {
          e.snapshot = encoder.snapshotOf(e.live.frame());
        }
        out.add(new OutboundMessage(e.live.keys(), e.live.partition(), e.live.offset(), e.snapshot.retainedDuplicate(),
            e.live.owners()));
      }
      java.util.Collections.reverse(out);
      return new Snapshot(out, start, next, max > 0 && out.size() == max);
    }

    synchronized void begin(long offset) {
      clear();
      start = offset;
      next = offset;
    }

    synchronized long next() {
      return next;
    }

    synchronized long bytes() {
      return bytes;
    }

    synchronized void clear() {
      entries.forEach(Entry::release);
      entries.clear();
      bytes = 0;
      start = -1;
      next = -1;
    }
  }
}
