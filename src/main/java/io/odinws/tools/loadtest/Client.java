package io.odinws.tools.loadtest;

import io.netty.channel.Channel;
import java.util.Arrays;

/**
 * One logical client: its subscription and what it has seen, kept across reconnects (with --recover a
 * client reconnects on a new socket and keeps its positions, order state and received offsets).
 * Mutable state is touched by the event loop of the client's current socket only; the control thread
 * reads the volatile fields, and everything else after the event loops have stopped.
 */
final class Client {
    /** Positions are packed as partition << 47 | offset; this partition value means "unknown, bare offset". */
    static final long NO_PARTITION = 0xFFFF;
    private static final long OFFSET_MASK = (1L << 47) - 1;

    final int index;       // in this process
    final int globalIndex; // among all processes
    final int[] channels;  // sorted channel-table indexes
    final boolean slow;
    final boolean drop;          // one of the --drop-fraction clients
    final SeqTracker order;
    final long[] lastPos;        // null unless --recover; -1 = no position yet
    final OffsetLog[] received;  // null unless a ground truth is available; entries created lazily

    /** Wall-clock millis of the first subscription_ack, -1 before. */
    long ackMillis = -1;
    int backoffAttempt;
    /** Retry-After of the last refused upgrade, in ms; 0 when the last attempt was not refused with one. */
    long retryAfterMillis;
    boolean everOpened;
    /** Dropped by --drop-fraction, and not subscribed again yet / not answered a reconnect_ack yet. */
    boolean awaitingBack;
    boolean awaitingRecovery;
    /** The current session sent a reconnect (the client had a position); else being back is being recovered. */
    boolean reconnectSent;
    /** This client's socket is being closed by the drop (so its close is not counted as one the client saw). */
    boolean resetByDrop;

    /** --auth-present message: the auth message is sent and not answered yet (the subscription waits for it). */
    volatile boolean awaitingAuth;
    volatile long authSentNanos;
    /** The current session is a reconnect (sends its positions once subscribed). */
    boolean pendingReconnect;

    volatile Channel channel;
    volatile boolean wsOpen;
    volatile long attemptStartNanos;
    /** --slow-read-rate: when this slow client started reading slowly, and the data bytes it has read since. */
    long slowReadStartNanos;
    long slowReadBytes;

    Client(int index, int globalIndex, int[] channels, boolean slow, boolean drop, boolean recover, boolean trackOffsets) {
        this.index = index;
        this.globalIndex = globalIndex;
        this.channels = channels;
        this.slow = slow;
        this.drop = drop;
        this.order = new SeqTracker(channels.length);
        if (recover) {
            lastPos = new long[channels.length];
            Arrays.fill(lastPos, -1);
        } else {
            lastPos = null;
        }
        this.received = trackOffsets ? new OffsetLog[channels.length] : null;
    }

    /** Slot of channel-table index {@code channel} in this client's subscription, or a negative number. */
    int slot(int channel) {
        return Arrays.binarySearch(channels, channel);
    }

    void remember(int slot, long partition, long offset) {
        // -1 is a valid position: "before the first record" (a subscription_ack's position on an
        // empty partition); stored as offset + 1 so that a set position is never negative.
        if (offset < -1 || offset + 1 > OFFSET_MASK) return;
        long p = partition < 0 || partition >= NO_PARTITION ? NO_PARTITION : partition;
        lastPos[slot] = p << 47 | (offset + 1);
    }

    static long partitionOf(long packed) {
        return packed >>> 47;
    }

    static long offsetOf(long packed) {
        return (packed & OFFSET_MASK) - 1;
    }

    void receivedOffset(int slot, long offset) {
        OffsetLog log = received[slot];
        if (log == null) received[slot] = log = new OffsetLog();
        log.add(offset);
    }
}
