package io.odinws.tools.hostile;

import java.net.InetAddress;
import java.net.URI;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * A hostile run, checked: bounded in sockets and time, loopback only.
 *
 * @param url                the server's WebSocket URL, ws://LOOPBACK:PORT/PATH
 * @param slots              concurrent sockets per kind (each slot opens a new socket after its previous one ended)
 * @param sourceAddresses    loopback addresses the sockets bind to, round-robin by slot
 * @param durationSeconds    the run's length; every socket still open then is counted and closed
 * @param rampPerSecond      how fast the slots open their first socket
 * @param pauseMillis        how long a slot waits after its socket ended before it opens the next
 * @param trickleMillis      slow-loris: interval between two header bytes
 * @param floodRate          flood: messages per second per socket
 * @param oversizeBytes      oversize: payload length of the one frame sent
 * @param echoTimeoutMillis  reconnect: how long to wait for the server's answer to the close frame
 * @param reportFile         also write the JSON summary here; null = stdout only
 */
public record HostileOptions(URI url, Map<Kind, Integer> slots, List<InetAddress> sourceAddresses, int durationSeconds,
                             int rampPerSecond, long pauseMillis, long trickleMillis, int floodRate, int oversizeBytes,
                             long echoTimeoutMillis, String reportFile) {

    public static final int MAX_SOCKETS = 20_000;
    public static final int MAX_DURATION_SECONDS = 600;
    public static final String DEFAULT_SOURCES = "127.0.1.1-127.0.1.20";

    public HostileOptions {
        slots = Map.copyOf(new EnumMap<>(slots));
        sourceAddresses = List.copyOf(sourceAddresses);
        if (!"ws".equalsIgnoreCase(url.getScheme()) || url.getHost() == null || url.getPort() <= 0) {
            throw new IllegalArgumentException("--url must be ws://HOST:PORT/PATH, got '" + url + "'");
        }
        io.odinws.tools.loadtest.LoadTestOptions.requireLoopback("--url", url.getHost());
        int total = 0;
        for (Map.Entry<Kind, Integer> e : slots.entrySet()) {
            if (e.getValue() < 0 || e.getValue() > MAX_SOCKETS) {
                throw new IllegalArgumentException(e.getKey().option() + " must be 0.." + MAX_SOCKETS + ", got " + e.getValue());
            }
            total += e.getValue();
        }
        if (total < 1 || total > MAX_SOCKETS) {
            throw new IllegalArgumentException("the sockets of all kinds together must be 1.." + MAX_SOCKETS + ", got " + total);
        }
        if (sourceAddresses.isEmpty()) throw new IllegalArgumentException("--source-addresses must list at least one address");
        check("--duration", durationSeconds, 1, MAX_DURATION_SECONDS);
        check("--ramp", rampPerSecond, 1, 100_000);
        check("--pause-ms", pauseMillis, 0, 60_000);
        check("--trickle-ms", trickleMillis, 10, 60_000);
        check("--flood-rate", floodRate, 1, 100_000);
        check("--oversize-bytes", oversizeBytes, 1, 64 * 1024 * 1024);
        check("--echo-timeout-ms", echoTimeoutMillis, 100, 60_000);
    }

    /** Slots of one kind (0 when not asked for). */
    public int slotsOf(Kind k) {
        return slots.getOrDefault(k, 0);
    }

    public int totalSlots() {
        return slots.values().stream().mapToInt(Integer::intValue).sum();
    }

    private static void check(String option, long v, long min, long max) {
        if (v < min || v > max) throw new IllegalArgumentException(option + " must be " + min + ".." + max + ", got " + v);
    }
}
