package io.odinws.envelope;

/** Why a Kafka record never reaches a client (PROTOCOL.md section 2); a metric label. */
public enum SkipReason {
  /** Empty or missing key. */
  EMPTY_KEY("empty_key"),
  /** Key longer than 128 bytes, or with whitespace, control characters, quotes, backslashes or '*'. */
  INVALID_KEY("invalid_key"),
  /** Value missing or not a single valid JSON value. */
  INVALID_JSON("invalid_json"),
  /** Topic not in the configured topic to category map. */
  UNMAPPED_TOPIC("unmapped_topic");

  public final String label;

  SkipReason(String label) {
    this.label = label;
  }
}
