package io.odinws.envelope;

/** Why a Kafka record never reaches a client (PROTOCOL.md section 2); a metric label. */
public enum SkipReason {
  /** Empty or missing key. */
  EMPTY_KEY("empty_key"),
  /** Key longer than 128 bytes, or with whitespace, control characters, quotes, backslashes or '*'. */
  INVALID_KEY("invalid_key"),
  /** Value not well-formed UTF-8 (overlong forms, surrogates, beyond U+10FFFF, truncated sequences). */
  INVALID_UTF8("invalid_utf8"),
  /** Value missing, or not a single JSON value with nothing but JSON whitespace around it (a byte-order mark included). */
  INVALID_JSON("invalid_json"),
  /** Topic not in the configured topic to category map. */
  UNMAPPED_TOPIC("unmapped_topic"),
  /** A private topic's record with no string at any of the topic's owner pointers: it would reach nobody. */
  NO_OWNER("no_owner");

  public final String label;

  SkipReason(String label) {
    this.label = label;
  }
}
