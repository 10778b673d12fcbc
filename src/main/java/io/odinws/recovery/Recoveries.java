package io.odinws.recovery;

import io.odinws.config.RecoveryConfig;
import io.odinws.envelope.ChannelName;
import io.odinws.envelope.OutboundMessage;
import io.odinws.protocol.Position;
import io.odinws.protocol.Replies;
import io.odinws.ratelimit.TokenBucket;
import io.odinws.stats.ShardStats;
import org.apache.kafka.common.utils.Utils;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * A shard's recoveries (PROTOCOL.md section 6). Per channel: gate its live messages, replay
 * everything after the client's position (from Kafka when older than the history, then from the
 * history), then write the gated live messages the replay did not already cover, and answer
 * {@code reconnect_ack} once every channel is done. Limits: messages per request, and a per-shard
 * token bucket of replayed messages per second. Runs on the shard's loop ({@code loop}); Kafka
 * reads complete elsewhere and hop back to it. Snapshots on subscribe ({@link SnapshotRequest}) use the same
 * gate, history, Kafka reader and per-second bucket.
 */
public final class Recoveries {

  private final History history;
  private final KafkaReplay kafka;
  private final RecoveryConfig config;
  private final Map<String, String> topicByCategory = new HashMap<>();
  private final ShardStats stats;
  private final ScheduledExecutorService loop;
  /** Replayed messages per second, per shard. */
  private final TokenBucket perSecond;

  public Recoveries(History history, KafkaReplay kafka, RecoveryConfig config, Map<String, String> topicToCategory,
                    ShardStats stats, ScheduledExecutorService loop) {
    this.history = history;
    this.kafka = kafka;
    this.config = config;
    this.stats = stats;
    this.loop = loop;
    this.perSecond = new TokenBucket(config.maxMessagesPerSecond(), config.maxMessagesPerSecond(), System.nanoTime());
    // Positions name a partition of the category's topic; with several topics per category the first wins.
    topicToCategory.forEach((topic, category) -> topicByCategory.putIfAbsent(category, topic));
  }

  /** One reconnect (or subscribe with last_offset): every channel named, then one reconnect_ack. */
  private final class Request {
    final ReplayTarget target;
    final Map<String, Replies.ChannelRecovery> results = new LinkedHashMap<>();
    /** Runs once reconnect_ack is written (a subscribe's snapshot comes after its recovery). */
    Runnable then = () -> { };
    int pending;
    int budget = config.maxMessagesPerRequest();

    Request(ReplayTarget target) {
      this.target = target;
    }

    void done(String channel, boolean recovered, int replayed, String error) {
      results.put(channel, new Replies.ChannelRecovery(recovered, replayed, error));
      if (!recovered) {
        stats.channelNotRecovered();
      }
      if (--pending == 0 && !target.isClosing()) {
        target.reply(Replies.reconnectAck(results));
        then.run();
      }
    }

    /** One message of budget from the request and from the shard's per-second bucket. */
    boolean take() {
      if (budget <= 0 || !perSecond.tryTake(System.nanoTime())) {
        budget = -1; // marks the request as cut short
        return false;
      }
      budget--;
      return true;
    }
  }

  /**
   * @param positions channel to its last position, as the client sent them
   * @param refused   channels the subscribe step refused, with why
   */
  public void start(ReplayTarget target, Map<String, Object> positions, Map<String, String> refused) {
    start(target, positions, refused, () -> { });
  }

  /** As {@link #start(ReplayTarget, Map, Map)}, running {@code then} on the loop once reconnect_ack is written. */
  public void start(ReplayTarget target, Map<String, Object> positions, Map<String, String> refused, Runnable then) {
    stats.replayRequest();
    Request req = new Request(target);
    req.then = then;
    for (String channel : positions.keySet()) {
      req.results.put(channel, null); // keeps the client's order in the ack
    }
    req.pending = positions.size();
    if (req.pending == 0) {
      target.reply(Replies.reconnectAck(req.results));
      then.run();
      return;
    }
    List<Job> jobs = new ArrayList<>();
    for (Map.Entry<String, Object> e : positions.entrySet()) {
      String channel = e.getKey();
      String problem = refused.get(channel);
      Position pos = Position.parse(e.getValue());
      String topic = topicOf(channel);
      if (problem == null && pos == null) {
        problem = "invalid position '" + e.getValue() + "': expected \"<partition>:<offset>\" or an offset number";
      } else if (problem == null && topic == null) {
        problem = "only exact channels can be recovered";
      }
      if (problem != null) {
        req.done(channel, false, 0, problem);
        continue;
      }
      // Gate from now on: live messages must not overtake the replay, even while it waits.
      HeldBack held = target.gate().open(channel, pos.offset(), config.maxHeldBackPerChannel());
      jobs.add(new Job(channel, topic, ChannelName.token(channel), pos, held));
    }
    proceed(req, jobs, System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(config.kafkaReadTimeoutMs()));
  }

  /** A channel to recover: validated, its live messages gated, waiting for its partitions to be known. */
  private record Job(String channel, String topic, String token, Position pos, HeldBack held) {
  }

  /**
   * Recovers each job once the ingest worker has assigned the partitions: a client reconnecting to a
   * server that has just started would otherwise be told "unknown partition". Waits at most
   * {@code recovery.kafkaReadTimeoutMs}.
   */
  private void proceed(Request req, List<Job> jobs, long deadline) {
    if (req.target.isClosing()) {
      return; // the gated messages are released with the connection
    }
    boolean known = jobs.stream().allMatch(j -> history.partitionCount(j.topic()) > 0);
    if (!known && System.nanoTime() < deadline) {
      loop.schedule(() -> proceed(req, jobs, deadline), 100, TimeUnit.MILLISECONDS);
      return;
    }
    for (Job j : jobs) {
      int partitions = history.partitionCount(j.topic());
      int partition = j.pos().partition() >= 0 ? j.pos().partition() : partitionOf(j.token(), partitions);
      if (partitions == 0) {
        finish(req, j.channel(), j.held(), false, 0, "partitions of " + j.topic() + " not assigned yet: Kafka is not reachable");
      } else if (partition < 0 || partition >= partitions) {
        finish(req, j.channel(), j.held(), false, 0, "unknown partition " + j.pos().partition() + " of " + j.topic());
      } else {
        recoverChannel(req, j.channel(), j.topic(), partition, j.pos().offset(), j.held());
      }
    }
  }

  /**
   * The position a client can recover an exact channel from, as of now: its partition and the last
   * offset this server processed there; null for wildcards or before the partition is known. Sent in
   * subscription_ack, so a channel that has not had a message yet is recoverable too.
   */
  public Position position(String channel) {
    String topic = topicOf(channel);
    if (topic == null) {
      return null;
    }
    int partition = partitionOf(ChannelName.token(channel), history.partitionCount(topic));
    long next = partition < 0 ? -1 : history.nextOffset(topic, partition);
    return next < 0 ? null : new Position(partition, next - 1);
  }

  /** {@link #position} as the protocol writes it, {@code "P:O"}. */
  public String currentPosition(String channel) {
    Position p = position(channel);
    return p == null ? null : p.partition() + ":" + p.offset();
  }

  /**
   * A subscribe's snapshot of the last {@code requested} messages (clamped to {@code recovery.maxSnapshotMessages})
   * of each of {@code channels} (accepted, in order, without those the subscribe recovers from a position): opens
   * their gates now, so call it in the loop task that subscribed them, before their positions are read for the
   * subscription_ack; then {@link SnapshotRequest#start()} once the request's other answers are written.
   */
  public SnapshotRequest openSnapshot(ReplayTarget target, long requested, List<String> channels) {
    return new SnapshotRequest(this, target, requested, channels);
  }

  public int maxSnapshotMessages() {
    return config.maxSnapshotMessages();
  }

  // What a snapshot shares with recovery: one history, one Kafka reader, one per-second budget per shard.

  RecoveryConfig config() {
    return config;
  }

  History history() {
    return history;
  }

  KafkaReplay kafka() {
    return kafka;
  }

  ShardStats stats() {
    return stats;
  }

  ScheduledExecutorService loop() {
    return loop;
  }

  TokenBucket perSecond() {
    return perSecond;
  }

  /** The topic an exact channel's messages come from; null for wildcards and unknown categories. */
  String topicOf(String channel) {
    String category = ChannelName.exactCategory(channel);
    return category == null ? null : topicByCategory.get(category);
  }

  /** Kafka's default partitioner, for positions given as a bare offset. */
  static int partitionOf(String token, int partitions) {
    return partitions <= 0 ? -1 : Utils.toPositive(Utils.murmur2(token.getBytes(StandardCharsets.UTF_8))) % partitions;
  }

  private void recoverChannel(Request req, String channel, String topic, int partition, long after, HeldBack held) {
    ReplayTarget target = req.target;
    // Taken after the gate opened: whatever this shard delivered before is in the history.
    History.Snapshot snapshot = history.after(topic, partition, after, channel, Math.max(0, req.budget), target.subject());
    boolean fromMemory = snapshot.start() >= 0 && after + 1 >= snapshot.start() && after + 1 <= snapshot.next();
    if (fromMemory) {
      int written = writeReplay(req, held, snapshot);
      finish(req, channel, held, !snapshot.truncated(), written, null);
      return;
    }
    // Older than the history (or the history is empty, or the client is ahead of it): Kafka first.
    long until = snapshot.start() >= 0 && after + 1 < snapshot.start() ? snapshot.start() : Long.MAX_VALUE;
    kafka.read(topic, partition, after + 1, until).onComplete((read, err) -> loop.execute(() -> {
      if (target.isClosing()) {
        snapshot.release();
        if (read != null) {
          read.batch().release();
        }
        return;
      }
      if (err != null) {
        snapshot.release();
        finish(req, channel, held, false, 0, "history unavailable: " + err.getMessage());
        return;
      }
      if (after >= read.logEndOffset() && until == Long.MAX_VALUE) {
        read.batch().release();
        snapshot.release();
        finish(req, channel, held, false, 0, "position " + partition + ":" + after + " is beyond the partition end " + read.logEndOffset());
        return;
      }
      int written = writeRead(req, held, channel, read);
      boolean complete = read.complete() && read.logStartOffset() <= after + 1 && req.budget >= 0;
      String error = read.logStartOffset() > after + 1 ? "position older than the topic's retention" : null;
      if (until != Long.MAX_VALUE) {
        written += writeReplay(req, held, snapshot);
        complete &= !snapshot.truncated();
      } else {
        snapshot.release();
      }
      finish(req, channel, held, complete, written, error);
    }));
  }

  /** Writes a history snapshot's frames (owned) after what the channel was sent, within the budgets. */
  private int writeReplay(Request req, HeldBack held, History.Snapshot snapshot) {
    int written = 0;
    int privateWritten = 0;
    for (OutboundMessage m : snapshot.messages()) {
      if (m.offset() > held.lastSent() && req.take()) {
        if (held.sendIfNew(req.target, m.offset(), m.frame())) {
          written++;
          privateWritten += m.isPrivate() ? 1 : 0;
        }
      } else {
        m.frame().release();
      }
    }
    countPrivate(privateWritten);
    return written;
  }

  /** Writes a Kafka read's frames of {@code channel} after what the channel was sent; releases the caller's reference. */
  private int writeRead(Request req, HeldBack held, String channel, ReplayRead read) {
    int written = 0;
    int privateWritten = 0;
    try {
      for (OutboundMessage m : read.batch().messages()) {
        if (m.offset() > held.lastSent() && m.offset() < read.untilOffset() && m.channel().equals(channel)
            && m.isFor(req.target.subject()) && req.take()) {
          if (held.sendIfNew(req.target, m.offset(), m.frame().retainedDuplicate())) {
            written++;
            privateWritten += m.isPrivate() ? 1 : 0;
          }
        }
      }
    } finally {
      read.batch().release();
    }
    countPrivate(privateWritten);
    return written;
  }

  private void countPrivate(int written) {
    if (written > 0) {
      stats.addPrivateDelivered(written);
    }
  }

  /**
   * The replay is written: now the gated live messages, then live delivery resumes. Not flushed here: the
   * request's reconnect_ack flushes every channel's replay with it, one write to the socket where a flush per
   * channel made one each (a live message's flush meanwhile takes them along).
   */
  private void finish(Request req, String channel, HeldBack held, boolean complete, int replayed, String error) {
    countPrivate(held.release(req.target));
    stats.replayed(replayed);
    boolean recovered = complete && !held.overflow() && req.budget >= 0;
    if (!recovered && error == null) {
      error = held.overflow() ? "too many live messages arrived during the replay" : "replay limit reached (recovery.maxMessagesPerRequest or maxMessagesPerSecond)";
    }
    req.done(channel, recovered, replayed, recovered ? null : error);
  }
}
