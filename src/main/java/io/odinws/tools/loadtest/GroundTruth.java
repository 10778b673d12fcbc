package io.odinws.tools.loadtest;

import java.util.Collection;
import java.util.Map;

/**
 * What was produced during the run, per channel: the source of "expected offsets" for the loss check.
 * {@link KafkaGroundTruth} reads the Odin topics; tests supply their own.
 */
public interface GroundTruth extends AutoCloseable {

    /**
     * The records of one channel produced during the run: offsets and their production timestamps (ms),
     * index by index, in any order; for a private category also each record's owners (the distinct strings at
     * the owner pointers of its value, possibly none), else {@code owners} is null.
     */
    record ChannelRecords(long[] offsets, long[] timestamps, String[][] owners) {
        public ChannelRecords {
            if (offsets.length != timestamps.length) throw new IllegalArgumentException("offsets and timestamps differ in length");
            if (owners != null && owners.length != offsets.length) throw new IllegalArgumentException("owners and offsets differ in length");
        }

        /** A public channel's records: every subscriber expects each. */
        public ChannelRecords(long[] offsets, long[] timestamps) {
            this(offsets, timestamps, null);
        }
    }

    /** Called once before the first connection opens: from now on, record what is produced on {@code channels}. */
    void start(Collection<String> channels) throws Exception;

    /**
     * Called once after the run ended at {@code runEndMillis}: returns everything produced on the channels since
     * {@link #start} (at least up to {@code runEndMillis}). Channels without records may be absent.
     */
    Map<String, ChannelRecords> collect(long runEndMillis) throws Exception;

    @Override
    void close();
}
