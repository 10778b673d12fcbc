package io.odinws.stats;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * One shard's counters, written by the shard's event loop (once per batch or per event, never per
 * delivery) and read by metrics and health from any thread.
 */
public final class ShardStats {

  private final AtomicLong messagesSent = new AtomicLong();
  private final AtomicLong bytesSent = new AtomicLong();
  private final AtomicLong socketFlushes = new AtomicLong();
  private final AtomicLong messagesReceived = new AtomicLong();
  private final AtomicLong bytesReceived = new AtomicLong();
  private final AtomicLong droppedBatches = new AtomicLong();
  private final AtomicLong connectionErrors = new AtomicLong();
  private final AtomicLong rateLimited = new AtomicLong();
  private final AtomicLong slowClientsClosed = new AtomicLong();
  private final AtomicLong replayRequests = new AtomicLong();
  private final AtomicLong handshakesFailed = new AtomicLong();
  private final AtomicLong handshakeTimeouts = new AtomicLong();
  private final AtomicLong replayedMessages = new AtomicLong();
  private final AtomicLong snapshotMessages = new AtomicLong();
  private final AtomicLong privateDeliveries = new AtomicLong();
  private final AtomicLong channelsNotRecovered = new AtomicLong();
  private final AtomicLong conflated = new AtomicLong();
  private volatile long keptMessages;
  private volatile long keptMessagesPeak;
  private final AtomicLong slowQueuedPeak = new AtomicLong();
  private final AtomicLongArray disconnects = new AtomicLongArray(DisconnectReason.values().length);
  private volatile int webSockets;
  private volatile long subscriptions;
  /** When the shard's loop last finished a batch or a sweep; from creation, so a loop that never runs counts as stuck. */
  private volatile long progressAtNanos = System.nanoTime();

  public void addSent(long messages, long bytes) {
    messagesSent.addAndGet(messages);
    bytesSent.addAndGet(bytes);
  }

  /** Fan-out flushed {@code connections} sockets (one write syscall each, whatever the frames queued). */
  public void addSocketFlushes(long connections) {
    socketFlushes.addAndGet(connections);
  }

  public long socketFlushes() {
    return socketFlushes.get();
  }

  public void addReceivedBytes(long bytes) {
    bytesReceived.addAndGet(bytes);
  }

  public long bytesReceived() {
    return bytesReceived.get();
  }

  public void received() {
    messagesReceived.incrementAndGet();
  }

  public void droppedBatch() {
    droppedBatches.incrementAndGet();
  }

  public void connectionError() {
    connectionErrors.incrementAndGet();
  }

  /** An upgrade refused or malformed (admission, bad handshake, unsupported version). */
  public void handshakeFailed() {
    handshakesFailed.incrementAndGet();
  }

  /** A socket closed for not completing the WebSocket upgrade (or its next HTTP request) in time. */
  public void handshakeTimedOut() {
    handshakeTimeouts.incrementAndGet();
  }

  public long handshakeTimeouts() {
    return handshakeTimeouts.get();
  }

  public long handshakesFailed() {
    return handshakesFailed.get();
  }

  public void replayRequest() {
    replayRequests.incrementAndGet();
  }

  /** Private records written to their owners' connections (live, replayed, held back). */
  public void addPrivateDelivered(long messages) {
    privateDeliveries.addAndGet(messages);
  }

  public long privateDeliveries() {
    return privateDeliveries.get();
  }

  public void replayed(long messages) {
    replayedMessages.addAndGet(messages);
  }

  /** Messages sent as snapshot:message (snapshot on subscribe). */
  public void snapshotted(long messages) {
    snapshotMessages.addAndGet(messages);
  }

  public long snapshotMessages() {
    return snapshotMessages.get();
  }

  public void channelNotRecovered() {
    channelsNotRecovered.incrementAndGet();
  }

  public long replayRequests() {
    return replayRequests.get();
  }

  public long replayedMessages() {
    return replayedMessages.get();
  }

  public long channelsNotRecovered() {
    return channelsNotRecovered.get();
  }

  /** Slow connections replaced this many pending messages of {@code latest} channels with newer ones (skipped). */
  public void addConflated(long messages) {
    conflated.addAndGet(messages);
  }

  public long conflatedMessages() {
    return conflated.get();
  }

  /** Messages the shard's slow connections hold for their next drain, one at most per channel (the loop's count). */
  public void keptMessages(long kept) {
    keptMessages = kept;
    if (kept > keptMessagesPeak) {
      keptMessagesPeak = kept; // written on the shard's loop only
    }
  }

  /** The most messages the shard's slow connections held at once, since the start. */
  public long keptMessagesPeak() {
    return keptMessagesPeak;
  }

  public long keptMessages() {
    return keptMessages;
  }

  /** A flush of a connection over its high water mark left {@code bytes} queued for it. */
  public void slowQueued(long bytes) {
    if (bytes > slowQueuedPeak.get()) {
      slowQueuedPeak.accumulateAndGet(bytes, Math::max);
    }
  }

  /** The most bytes a flush left queued for one connection over its high water mark, since the start. */
  public long slowQueuedPeak() {
    return slowQueuedPeak.get();
  }

  public void slowClientClosed() {
    slowClientsClosed.incrementAndGet();
  }

  public long slowClientsClosed() {
    return slowClientsClosed.get();
  }

  public void rateLimited() {
    rateLimited.incrementAndGet();
  }

  public void disconnected(DisconnectReason reason) {
    disconnects.incrementAndGet(reason.ordinal());
  }

  public long rateLimitedMessages() {
    return rateLimited.get();
  }

  public long disconnects(DisconnectReason reason) {
    return disconnects.get(reason.ordinal());
  }

  public void webSockets(int webSockets) {
    this.webSockets = webSockets;
  }

  public void subscriptions(long subscriptions) {
    this.subscriptions = subscriptions;
  }

  public long messagesSent() {
    return messagesSent.get();
  }

  public long bytesSent() {
    return bytesSent.get();
  }

  public long messagesReceived() {
    return messagesReceived.get();
  }

  public long droppedBatches() {
    return droppedBatches.get();
  }

  public long connectionErrors() {
    return connectionErrors.get();
  }

  /** The shard's loop finished a batch or its periodic sweep at {@code nanos} ({@link System#nanoTime()}). */
  public void progressed(long nanos) {
    progressAtNanos = nanos;
  }

  public long progressAtNanos() {
    return progressAtNanos;
  }

  public int webSockets() {
    return webSockets;
  }

  public long subscriptions() {
    return subscriptions;
  }
}
