package io.odinws.envelope;

import org.apache.kafka.clients.consumer.ConsumerRecord;

import java.util.Map;

/**
 * The one place a Kafka record becomes a message: validation (PROTOCOL.md section 2) and the
 * envelope, for live delivery (ingest worker) and for replay (recovery's Kafka reads).
 */
public final class RecordFrames {

  private RecordFrames() {
  }

  /** Outcome of validation: the channel keys, or why the record is skipped. */
  public record Checked(ChannelKeys keys, SkipReason skip) {
  }

  /**
   * @param names interns keys (live path), or null to build them per record (replay path)
   */
  public static Checked check(ConsumerRecord<byte[], byte[]> r, Map<String, String> topicToCategory, ChannelNames names) {
    String category = topicToCategory.get(r.topic());
    if (category == null) {
      return new Checked(null, SkipReason.UNMAPPED_TOPIC);
    }
    SkipReason keyProblem = RecordValidator.checkKey(r.key());
    if (keyProblem != null) {
      return new Checked(null, keyProblem);
    }
    String token = RecordValidator.token(r.key());
    if (token == null) {
      return new Checked(null, SkipReason.INVALID_KEY);
    }
    if (!RecordValidator.isJson(r.value())) {
      return new Checked(null, SkipReason.INVALID_JSON);
    }
    return new Checked(names != null ? names.of(category, token) : ChannelKeys.of(token, category), null);
  }

  /**
   * A record as a replay frame ({@code "type":"replay:message","priority":2}), its {@code ts} the
   * record's timestamp (this server never saw it live); null when the record is skipped.
   * Ownership: the caller owns the returned frame.
   */
  public static OutboundMessage replayMessage(FrameEncoder encoder, Map<String, String> topicToCategory, ConsumerRecord<byte[], byte[]> record) {
    Checked c = check(record, topicToCategory, null);
    if (c.keys() == null) {
      return null;
    }
    return new OutboundMessage(c.keys(), record.partition(), record.offset(),
        encoder.encodeReplay(c.keys().channelUtf8(), record.partition(), record.offset(), record.timestamp(), record.value()));
  }
}
