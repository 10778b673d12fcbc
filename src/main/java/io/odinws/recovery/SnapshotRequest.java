package io.odinws.recovery;

import io.odinws.envelope.ChannelName;
import io.odinws.envelope.OutboundMessage;
import io.odinws.protocol.Position;
import io.odinws.protocol.Replies;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * One subscribe's snapshot (PROTOCOL.md section 6, "Snapshot on subscribe"): for each exact channel, the
 * last N messages at or before the position the channel's recovery gate opened at, as
 * {@code snapshot:message}, then one {@code snapshot_ack}, then the live messages the gate held back
 * meanwhile, minus what the snapshot already sent. A recovery whose start is "the Nth last message before
 * the gate's position" instead of a client's position: the same gate, held-back live messages, budgets
 * and shared Kafka reads as {@link Recoveries}.
 *
 * <p>Made by {@link Recoveries#openSnapshot} while the subscribe is handled (the gates open in the same loop
 * task as the subscriptions, so no live message of the channels can be written before the snapshot), and
 * {@link #start started} once the subscribe's {@code reconnect_ack}, if any, is written. Runs on the shard's
 * loop; Kafka reads complete elsewhere and hop back to it. Owns the frames it has collected until it writes
 * or releases them.
 */
public final class SnapshotRequest {

  static final String UNAVAILABLE = "history unavailable (Kafka unreachable)";
  static final String LIMIT = "snapshot limit reached";
  static final String WILDCARD = "only exact channels have a snapshot";
  static final String OVERFLOW = "too many live messages arrived during the snapshot";
  /** Records of the first window read backwards from Kafka; each further window is twice as wide. */
  static final int FIRST_WINDOW = 256;

  private final Recoveries owner;
  private final ReplayTarget target;
  private final long requested;
  /** Messages per channel: the request clamped to {@code recovery.maxSnapshotMessages}. */
  private final int max;
  /** Every channel answered, in the subscribe's order; null until the channel is done. */
  private final Map<String, Replies.ChannelSnapshot> results = new LinkedHashMap<>();
  private final List<Job> jobs = new ArrayList<>();
  private int pending;
  private int budget;
  /** Records this request may still read from Kafka, over all its channels (see {@link #scan}). */
  private long scanBudget;
  private boolean abandoned;

  /** One exact channel: its gate, where its snapshot ends, and the frames found so far (oldest first, owned). */
  private static final class Job {
    final String channel;
    final String topic;
    final HeldBack held;
    int partition = -1;
    /** The snapshot holds messages before this offset: the history's next offset when the gate opened. */
    long end = -1;
    final List<OutboundMessage> found = new ArrayList<>();
    String error;

    Job(String channel, String topic, HeldBack held) {
      this.channel = channel;
      this.topic = topic;
      this.held = held;
    }
  }

  SnapshotRequest(Recoveries owner, ReplayTarget target, long requested, List<String> channels) {
    this.owner = owner;
    this.target = target;
    this.requested = requested;
    this.max = (int) Math.min(requested, owner.config().maxSnapshotMessages());
    this.scanBudget = owner.config().maxRecordsPerKafkaRead();
    this.budget = owner.config().maxMessagesPerRequest();
    for (String channel : channels) {
      String topic = owner.topicOf(channel);
      if (topic == null) {
        results.put(channel, new Replies.ChannelSnapshot(requested, 0, null, WILDCARD));
      } else if (max == 0) {
        results.put(channel, new Replies.ChannelSnapshot(requested, 0, owner.currentPosition(channel), LIMIT));
      } else {
        results.put(channel, null);
        Job job = new Job(channel, topic, target.gate().open(channel, -1, owner.config().maxHeldBackPerChannel()));
        locate(job);
        jobs.add(job);
      }
    }
    pending = jobs.size();
  }

  /** Its partition and end, once the ingest worker knows the partition; taken once, right after the gate opened. */
  private void locate(Job job) {
    if (job.end >= 0) {
      return;
    }
    History history = owner.history();
    int partition = Recoveries.partitionOf(ChannelName.token(job.channel), history.partitionCount(job.topic));
    long next = partition < 0 ? -1 : history.nextOffset(job.topic, partition);
    if (next >= 0) {
      job.partition = partition;
      job.end = next;
    }
  }

  /**
   * The position {@code subscription_ack} names for an accepted channel: for a channel of this snapshot, the
   * one its gate opened at (live continues after it, the snapshot ends at it), or null while its partition is
   * unknown; for any other, as {@link Recoveries#position}. Reading the history again instead would name a
   * later offset when the ingest worker recorded one meanwhile, and a client keeping it would skip that record.
   */
  public Position switchPosition(String channel) {
    for (Job job : jobs) {
      if (job.channel.equals(channel)) {
        return job.end < 0 ? null : new Position(job.partition, job.end - 1);
      }
    }
    return owner.position(channel);
  }

  /** Collects and writes every channel's snapshot, then the ack, then the held live messages. */
  public void start() {
    if (pending == 0) {
      finish();
      return;
    }
    proceed(System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(owner.config().kafkaReadTimeoutMs()));
  }

  /** Waits (at most {@code recovery.kafkaReadTimeoutMs}) for the partitions of a server that has just started. */
  private void proceed(long deadline) {
    if (target.isClosing()) {
      abandon();
      return;
    }
    boolean located = true;
    for (Job job : jobs) {
      locate(job);
      located &= job.end >= 0;
    }
    if (!located && System.nanoTime() < deadline) {
      owner.loop().schedule(() -> proceed(deadline), 100, TimeUnit.MILLISECONDS);
      return;
    }
    long scanDeadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(owner.config().kafkaReadTimeoutMs());
    for (Job job : jobs) {
      if (job.end < 0) {
        job.error = UNAVAILABLE;
        done();
      } else {
        collect(job, scanDeadline);
      }
    }
  }

  /** From the history when it reaches back far enough; what it lacks from Kafka, scanning backwards. */
  private void collect(Job job, long deadline) {
    History.Snapshot memory = owner.history().lastBefore(job.topic, job.partition, job.end, job.channel, max, target.subject());
    boolean covers = memory.start() >= 0 && memory.start() <= job.end && job.end <= memory.next();
    if (!covers) {
      memory.release();
      scan(job, job.end, max, FIRST_WINDOW, deadline);
      return;
    }
    job.found.addAll(memory.messages());
    if (memory.truncated() || memory.start() == 0) {
      done();
    } else {
      scan(job, memory.start(), max - job.found.size(), FIRST_WINDOW, deadline);
    }
  }

  /**
   * Reads {@code [until - window, until)} of the partition and keeps the newest {@code need} messages of the
   * channel in it; goes on with a window twice as wide before it until it has them, reaches the partition's
   * start, or the request has read {@code recovery.maxRecordsPerKafkaRead} records over all its channels (a subscribe
   * of many quiet channels costs what one recovery read may cost, not that many times over) or spent
   * {@code kafkaReadTimeoutMs}.
   * Every read is a {@link KafkaReplay} read, so concurrent snapshots and recoveries of a partition share them.
   */
  private void scan(Job job, long until, int need, int window, long deadline) {
    if (until <= 0) {
      done();
      return;
    }
    if (scanBudget <= 0) {
      job.error = LIMIT;
      done();
      return;
    }
    long from = Math.max(0, until - Math.min(window, scanBudget));
    scanBudget -= until - from; // taken when the read is asked, so that reads of several channels in flight share it
    owner.kafka().read(job.topic, job.partition, from, until).onComplete((read, err) -> owner.loop().execute(() -> {
      if (abandoned || target.isClosing()) {
        if (read != null) {
          read.batch().release();
        }
        abandon();
        return;
      }
      if (err != null) {
        job.error = UNAVAILABLE;
        done();
        return;
      }
      int left = need;
      try {
        if (!read.complete()) {
          // Cut by a limit or a timeout: its newest records may be missing, so nothing of it is used.
          job.error = LIMIT;
          done();
          return;
        }
        left -= keepNewest(job, read, from, until, need);
      } finally {
        read.batch().release();
      }
      if (left == 0 || from == 0 || read.logStartOffset() >= from) {
        done(); // all asked, or nothing older is left in the topic
      } else if (System.nanoTime() - deadline > 0) {
        job.error = LIMIT;
        done();
      } else {
        scan(job, from, left, (int) Math.min(Integer.MAX_VALUE, 2L * window), deadline);
      }
    }));
  }

  /** Puts the newest {@code need} messages of the channel in {@code [from, until)} of a read before what was found. */
  private int keepNewest(Job job, ReplayRead read, long from, long until, int need) {
    List<OutboundMessage> matches = new ArrayList<>();
    String subject = target.subject();
    for (OutboundMessage m : read.batch().messages()) {
      if (m.offset() >= from && m.offset() < until && m.channel().equals(job.channel) && m.isFor(subject)) {
        matches.add(m);
      }
    }
    List<OutboundMessage> kept = new ArrayList<>(Math.min(need, matches.size()));
    for (OutboundMessage m : matches.subList(Math.max(0, matches.size() - need), matches.size())) {
      kept.add(new OutboundMessage(m.keys(), m.partition(), m.offset(), owner.history().snapshotOf(m.frame()), m.owners()));
    }
    job.found.addAll(0, kept);
    return kept.size();
  }

  private void done() {
    if (--pending == 0) {
      finish();
    }
  }

  /**
   * Every channel collected: writes the snapshots (newest first within the budgets, so that a cut one still
   * joins its live messages without a gap), the ack, then the held live messages.
   */
  private void finish() {
    if (abandoned || target.isClosing()) {
      abandon();
      return;
    }
    int total = 0;
    int privateWritten = 0;
    for (Job job : jobs) {
      List<OutboundMessage> found = job.found;
      int allowed = take(found.size());
      if (allowed < found.size()) {
        job.error = LIMIT;
      }
      int sent = 0;
      long last = -1;
      for (int i = 0; i < found.size(); i++) {
        OutboundMessage m = found.get(i);
        if (i < found.size() - allowed) {
          m.frame().release(); // the oldest ones go
        } else if (job.held.sendIfNew(target, m.offset(), m.frame())) {
          sent++;
          last = m.offset();
          privateWritten += m.isPrivate() ? 1 : 0;
        }
      }
      found.clear();
      String position = null;
      if (job.end >= 0) {
        // Live continues after the snapshot's end, also when a cut snapshot did not reach it.
        job.held.floor(job.end - 1);
        position = job.partition + ":" + (sent > 0 ? last : job.end - 1);
      }
      if (job.error == null && requested > max && sent == max) {
        job.error = LIMIT; // clamped to recovery.maxSnapshotMessages: the channel may have more
      }
      if (job.held.overflow()) {
        job.error = OVERFLOW; // live messages were dropped: the client must know
      }
      total += sent;
      results.put(job.channel, new Replies.ChannelSnapshot(requested, sent, position, job.error));
    }
    owner.stats().snapshotted(total);
    target.reply(Replies.snapshotAck(results));
    for (Job job : jobs) {
      privateWritten += job.held.release(target);
    }
    if (privateWritten > 0) {
      owner.stats().addPrivateDelivered(privateWritten);
    }
    target.flush();
  }

  /** Up to {@code wanted} messages of budget: the request's and the shard's per-second one. */
  private int take(int wanted) {
    int allowed = Math.min(wanted, Math.max(0, budget));
    long now = System.nanoTime();
    int got = 0;
    while (got < allowed && owner.perSecond().tryTake(now)) {
      got++;
    }
    budget -= got;
    return got;
  }

  /** The connection is closing: releases every frame collected (its gate releases the held ones). */
  private void abandon() {
    abandoned = true;
    for (Job job : jobs) {
      job.found.forEach(m -> m.frame().release());
      job.found.clear();
    }
  }
}
