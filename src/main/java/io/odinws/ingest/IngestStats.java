package io.odinws.ingest;

import io.odinws.envelope.SkipReason;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * What the ingest worker has seen, readable from any thread (health, metrics). Written by the
 * worker only, once per poll or per skipped record, never per delivery.
 */
public final class IngestStats {

  private final AtomicLong received = new AtomicLong();
  private final AtomicLong published = new AtomicLong();
  private final AtomicLong batches = new AtomicLong();
  private final AtomicLong compressed = new AtomicLong();
  private final AtomicLong compressedBytes = new AtomicLong();
  private final AtomicLongArray skipped = new AtomicLongArray(SkipReason.values().length);
  private volatile boolean connected;
  private volatile boolean assigned;
  private volatile int partitions;
  private volatile String lastError = "";

  void addBatch(int records, int publishedMessages) {
    received.addAndGet(records);
    published.addAndGet(publishedMessages);
    batches.incrementAndGet();
  }

  void addCompressed(int messages, long bytesSaved) {
    compressed.addAndGet(messages);
    compressedBytes.addAndGet(bytesSaved);
  }

  /** Messages given a permessage-deflate frame: once each, whatever the number of connections that receive it. */
  public long compressed() {
    return compressed.get();
  }

  /** Bytes those compressed frames are shorter than their uncompressed frames, summed per message (not per delivery). */
  public long compressionSavedBytes() {
    return compressedBytes.get();
  }

  void skip(SkipReason reason) {
    skipped.incrementAndGet(reason.ordinal());
  }

  void connected(boolean ok, String error) {
    connected = ok;
    lastError = error == null ? "" : error;
  }

  void assigned(int partitionCount) {
    partitions = partitionCount;
    assigned = true;
  }

  /** Records polled from Kafka, valid or not. */
  public long received() {
    return received.get();
  }

  /** Records turned into frames and published to the shards. */
  public long published() {
    return published.get();
  }

  public long batches() {
    return batches.get();
  }

  public long skipped(SkipReason reason) {
    return skipped.get(reason.ordinal());
  }

  /** The last broker round trip (end offsets) succeeded. */
  public boolean connected() {
    return connected;
  }

  /** Every partition of every configured topic is assigned and positioned at its end. */
  public boolean assigned() {
    return assigned;
  }

  public int partitions() {
    return partitions;
  }

  public String lastError() {
    return lastError;
  }
}
