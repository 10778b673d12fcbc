package io.odinws.envelope;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * The one place a Kafka record becomes a message: validation (PROTOCOL.md section 2) and the
 * envelope, for live delivery (ingest worker) and for replay (recovery's Kafka reads).
 */
public final class RecordFrames {

  private static final Logger LOG = LoggerFactory.getLogger(RecordFrames.class);

  /** One outcome per reason: a skipped record costs no allocation. */
  private static final Map<SkipReason, Checked> SKIPPED = new EnumMap<>(SkipReason.class);

  static {
    for (SkipReason reason : SkipReason.values()) {
      SKIPPED.put(reason, new Checked(null, reason));
    }
  }

  /** Where a record was read: the ingest worker's live consumption, or a replay's Kafka read. */
  public enum Source {
    LIVE("live"), REPLAY("replay");

    final String label;

    Source(String label) {
      this.label = label;
    }
  }

  private RecordFrames() {
  }

  /**
   * Outcome of validation: the channel keys and, for a private topic's record, its owners (null: public); or
   * why the record is skipped.
   */
  public record Checked(ChannelKeys keys, SkipReason skip, List<String> owners) {
    public Checked(ChannelKeys keys, SkipReason skip) {
      this(keys, skip, null);
    }
  }

  /** {@link #check(ConsumerRecord, Map, ChannelNames, RecordOwners)} with every topic public. */
  public static Checked check(ConsumerRecord<byte[], byte[]> r, Map<String, String> topicToCategory, ChannelNames names) {
    return check(r, topicToCategory, names, RecordOwners.NONE);
  }

  /**
   * @param names  interns keys (live path), or null to build them per record (replay path)
   * @param owners the private topics: their records carry their owners, or are skipped without one
   */
  public static Checked check(ConsumerRecord<byte[], byte[]> r, Map<String, String> topicToCategory, ChannelNames names,
                              RecordOwners owners) {
    String category = topicToCategory.get(r.topic());
    if (category == null) {
      return SKIPPED.get(SkipReason.UNMAPPED_TOPIC);
    }
    SkipReason keyProblem = RecordValidator.checkKey(r.key());
    if (keyProblem != null) {
      return SKIPPED.get(keyProblem);
    }
    String token = RecordValidator.token(r.key());
    if (token == null) {
      return SKIPPED.get(SkipReason.INVALID_KEY);
    }
    SkipReason valueProblem = RecordValidator.checkValue(r.value());
    if (valueProblem != null) {
      return SKIPPED.get(valueProblem);
    }
    List<String> recordOwners = owners.owners(r.topic(), r.value()); // null for a public topic: one map lookup
    if (recordOwners != null && recordOwners.isEmpty()) {
      return SKIPPED.get(SkipReason.NO_OWNER);
    }
    return new Checked(names != null ? names.of(category, token) : ChannelKeys.of(token, category), null, recordOwners);
  }

  /**
   * A record as a replay frame ({@code "type":"replay:message","priority":2}), its {@code ts} the
   * record's timestamp (this server never saw it live); null when the record is skipped (then
   * logged as the live path logs it, not counted: the ingest counted it when it read it live).
   * Ownership: the caller owns the returned frame.
   */
  public static OutboundMessage replayMessage(FrameEncoder encoder, Map<String, String> topicToCategory, ConsumerRecord<byte[], byte[]> record) {
    return replayMessage(encoder, topicToCategory, record, RecordOwners.NONE);
  }

  /** As {@link #replayMessage(FrameEncoder, Map, ConsumerRecord)}, a private topic's record carrying its owners as live. */
  public static OutboundMessage replayMessage(FrameEncoder encoder, Map<String, String> topicToCategory, ConsumerRecord<byte[], byte[]> record,
                                             RecordOwners owners) {
    Checked c = check(record, topicToCategory, null, owners);
    if (c.keys() == null) {
      logSkip(Source.REPLAY, record, c.skip());
      return null;
    }
    return new OutboundMessage(c.keys(), record.partition(), record.offset(),
        encoder.encodeReplay(c.keys().channelUtf8(), record.partition(), record.offset(), record.timestamp(), record.value()),
        c.owners());
  }

  /**
   * One line per skipped record: where it is in Kafka and why, never its key or value (a value may
   * hold anything, and bytes that are not UTF-8 would break the log line). A poison producer can
   * skip thousands per second: the log's WarningRateLimiter keeps this to a few lines per minute and
   * reports how many it held back; the counters by reason count every one.
   */
  public static void logSkip(Source source, ConsumerRecord<?, ?> r, SkipReason reason) {
    LOG.warn("event=kafka_record_skipped source={} topic={} partition={} offset={} reason={}",
        source.label, r.topic(), r.partition(), r.offset(), reason.label);
  }
}
