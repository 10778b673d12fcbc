package io.odinws.tools.loadtest;

import io.odinws.tools.publish.PublisherOptions;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Settings of the load generator; {@link #parse(String[])} reads the command line, the constructor
 * validates (every message names the option at fault).
 *
 * @param url                where to connect; a ws:// URL whose host is a loopback address
 * @param connections        logical clients to open (all processes together)
 * @param rampPerSecond      connection opening rate (all processes together)
 * @param subscribe          which channels each client subscribes to
 * @param channels           the channel list subscriptions are drawn from, distinct
 * @param heartbeatSeconds   {"type":"heartbeat"} period per client; 0 = off
 * @param durationSeconds    run length, ramp included
 * @param recover            reconnect after a close, with last_offset recovery
 * @param slowFraction       this fraction of clients stops reading after its subscription_ack
 * @param dropFraction       this fraction of clients is dropped at once (reset, no close frame) at {@code dropAfterSeconds}
 *                           and reconnects with recovery; 0 = no drop
 * @param dropAfterSeconds   when the drop happens, seconds from the start of the run; 0 when there is no drop
 * @param sourceAddresses    local IPv4 loopback addresses to bind, round-robin; empty = the OS picks
 * @param processes          0 = auto (spread when one process would exceed its file limit), else N
 * @param reportFile         also write the JSON report here; null = stdout only
 * @param expectConnections  fail unless at least this many clients are subscribed and held at the end; -1 = no check
 * @param maxP99Millis       fail if p99 latency exceeds this; NaN = no check
 * @param maxLoss            fail if the loss fraction exceeds this; NaN = no check
 * @param kafka              bootstrap servers of the ground-truth consumer; null = loss not measured
 * @param topics             topic to category, for the ground-truth consumer
 * @param threads            event-loop threads of the client
 * @param seed               random seed (channel draws, slow-client choice, jitter)
 * @param lossGraceMillis    loss window margin after the ack and before the end
 * @param child              internal: this process is a child of {@link ProcessSpreader}
 * @param clientOffset       internal: index of this process's first client among all processes
 * @param nchan              null: the odin-ws protocol; else {@code --protocol nchan} and its settings
 * @param privateChannels    subscribed by every client besides its draw from {@code channels}: {@code TOKEN.CATEGORY}
 *                           or {@code *.CATEGORY} (sent as given; accounted as that category's channel of every token
 *                           of {@code channels})
 * @param auth               null: clients present no token; else how they authenticate and which categories are private
 * @param slowReadBytesPerSecond 0: a slow client stops reading after its ack; else it reads this many bytes of data
 *                           messages per second (their latency, counted apart, is how far behind its values are)
 * @param deflate            offer permessage-deflate and inflate compressed messages ({@code --deflate})
 * @param subscribeOnUpgrade a client's first connection names its channels in the upgrade's URL ({@code ?subscribe=})
 *                           instead of a subscribe message ({@code --subscribe-on-upgrade}); a reconnect subscribes by
 *                           message, with its positions
 * @param controlStdin       read commands from stdin ({@code measure}: the report's latency percentiles start again
 *                           from the next second; {@code hold}: they end with the current second), for a harness that
 *                           measures a window of the run
 */
public record LoadTestOptions(URI url, int connections, int rampPerSecond, Subscribe subscribe, List<String> channels,
                              int heartbeatSeconds, int durationSeconds, boolean recover, double slowFraction,
                              double dropFraction, int dropAfterSeconds, List<InetAddress> sourceAddresses, int processes, String reportFile,
                              int expectConnections, double maxP99Millis, double maxLoss, String kafka,
                              Map<String, String> topics, int threads, long seed, long lossGraceMillis,
                              boolean child, int clientOffset, NchanOptions nchan, List<String> privateChannels,
                              AuthOptions auth, long slowReadBytesPerSecond, boolean deflate, boolean subscribeOnUpgrade,
                              boolean controlStdin) {

    /** How a client picks its channels. {@code count} is 0 for ALL and 1 for SINGLE. */
    public record Subscribe(Kind kind, int count) {
        public enum Kind { ALL, SINGLE, RANDOM, ZIPF }

        @Override
        public String toString() {
            return switch (kind) {
                case ALL -> "all";
                case SINGLE -> "single";
                case RANDOM -> "random:" + count;
                case ZIPF -> "zipf:" + count;
            };
        }
    }

    public static final String DEFAULT_URL = "ws://127.0.0.1:8080/ws";
    public static final String DEFAULT_NCHAN_URL = "ws://127.0.0.1:8080";
    public static final int MAX_CONNECTIONS = 500_000;
    public static final int MAX_DURATION_SECONDS = 86_400;
    public static final int MAX_PROCESSES = 64;
    public static final List<String> DEFAULT_TOKENS = PublisherOptions.DEFAULT_TOKENS;
    public static final List<String> DEFAULT_CATEGORIES = List.of("trade", "liquidity", "metadata", "social",
            "community", "creation", "analytics", "balances");

    private static final Pattern CHANNEL_PART = Pattern.compile("[^\\s.\"\\\\]{1,128}");
    private static final Pattern CATEGORY = Pattern.compile("[A-Za-z0-9_*-]{1,64}");
    private static final Pattern TOPIC = Pattern.compile("[A-Za-z0-9._-]{1,249}");
    private static final Pattern HOST_PORT = Pattern.compile("[^\\s,:]+:\\d{1,5}(,[^\\s,:]+:\\d{1,5})*");

    public LoadTestOptions {
        if (url == null) throw new IllegalArgumentException("--url is required");
        if (connections < 1 || connections > MAX_CONNECTIONS) {
            throw new IllegalArgumentException("--connections must be 1.." + MAX_CONNECTIONS + ", got " + connections);
        }
        if (rampPerSecond < 1) throw new IllegalArgumentException("--ramp must be >= 1 connections/s, got " + rampPerSecond);
        if (subscribe == null) throw new IllegalArgumentException("--subscribe is required");
        if (channels == null || channels.isEmpty()) throw new IllegalArgumentException("--channels must name at least one channel");
        if (new HashSet<>(channels).size() != channels.size()) {
            throw new IllegalArgumentException("--channels must be distinct, got " + channels);
        }
        for (String c : channels) checkChannel(c);
        if ((subscribe.kind() == Subscribe.Kind.RANDOM || subscribe.kind() == Subscribe.Kind.ZIPF)
                && (subscribe.count() < 1 || subscribe.count() > channels.size())) {
            throw new IllegalArgumentException("--subscribe " + subscribe + ": N must be 1.." + channels.size()
                    + " (the number of channels)");
        }
        if (heartbeatSeconds < 0 || heartbeatSeconds > 3600) {
            throw new IllegalArgumentException("--heartbeat must be 0..3600 seconds (0 = off), got " + heartbeatSeconds);
        }
        if (durationSeconds < 1 || durationSeconds > MAX_DURATION_SECONDS) {
            throw new IllegalArgumentException("--duration must be 1.." + MAX_DURATION_SECONDS + " seconds, got " + durationSeconds);
        }
        if (!(slowFraction >= 0 && slowFraction <= 1)) {
            throw new IllegalArgumentException("--slow-fraction must be 0..1, got " + slowFraction);
        }
        if (slowReadBytesPerSecond < 0 || slowReadBytesPerSecond > 1L << 30) {
            throw new IllegalArgumentException("--slow-read-rate must be 0..1073741824 bytes per second (0 = not at all), got "
                    + slowReadBytesPerSecond);
        }
        checkDrop(dropFraction, dropAfterSeconds, durationSeconds, recover, nchan);
        sourceAddresses = List.copyOf(sourceAddresses == null ? List.of() : sourceAddresses);
        for (InetAddress a : sourceAddresses) {
            if (a.getAddress().length != 4 || !a.isLoopbackAddress()) {
                throw new IllegalArgumentException("--source-addresses must be IPv4 loopback addresses (127.x.y.z), got " + a.getHostAddress());
            }
        }
        if (processes < 0 || processes > MAX_PROCESSES) {
            throw new IllegalArgumentException("--processes must be auto or 1.." + MAX_PROCESSES + ", got " + processes);
        }
        if (expectConnections < -1 || expectConnections > connections) {
            throw new IllegalArgumentException("--expect-connections must be 0..--connections (" + connections + "), got " + expectConnections);
        }
        if (!Double.isNaN(maxP99Millis) && !(maxP99Millis > 0 && maxP99Millis < 3_600_000)) {
            throw new IllegalArgumentException("--max-p99-ms must be a positive number of milliseconds, got " + maxP99Millis);
        }
        if (!Double.isNaN(maxLoss) && !(maxLoss >= 0 && maxLoss <= 1)) {
            throw new IllegalArgumentException("--max-loss must be a fraction 0..1, got " + maxLoss);
        }
        if (kafka != null) {
            if (!HOST_PORT.matcher(kafka).matches()) {
                throw new IllegalArgumentException("--kafka must be HOST:PORT[,HOST:PORT...], got '" + kafka + "'");
            }
            for (String hp : kafka.split(",")) requireLoopback("--kafka", hp.substring(0, hp.lastIndexOf(':')));
        }
        if (topics == null || topics.isEmpty()) throw new IllegalArgumentException("--topics must map at least one topic");
        for (var e : topics.entrySet()) {
            if (!TOPIC.matcher(e.getKey()).matches()) {
                throw new IllegalArgumentException("--topics: invalid topic name '" + e.getKey() + "'");
            }
            if (!CATEGORY.matcher(e.getValue()).matches()) {
                throw new IllegalArgumentException("--topics: invalid category '" + e.getValue() + "'");
            }
        }
        if (threads < 1 || threads > 16) throw new IllegalArgumentException("--threads must be 1..16, got " + threads);
        if (lossGraceMillis < 0 || lossGraceMillis > 60_000) {
            throw new IllegalArgumentException("--loss-grace-ms must be 0..60000, got " + lossGraceMillis);
        }
        if (clientOffset < 0) throw new IllegalArgumentException("--client-offset must be >= 0, got " + clientOffset);
        checkUrl(url);
        if (nchan != null) checkNchan(subscribe, channels, recover, kafka, nchan);
        privateChannels = List.copyOf(privateChannels == null ? List.of() : privateChannels);
        checkPrivateChannels(privateChannels, nchan, auth);
        if (subscribeOnUpgrade && nchan != null) {
            throw new IllegalArgumentException("--subscribe-on-upgrade is for --protocol odin (nchan subscribes by its URL anyway)");
        }
        if (subscribeOnUpgrade && auth != null && auth.present() == AuthOptions.Present.MESSAGE) {
            throw new IllegalArgumentException("--subscribe-on-upgrade needs the token on the upgrade (--auth-present header or query):"
                    + " an auth message comes after the upgrade's subscribe");
        }
        channels = List.copyOf(channels);
        topics = Collections.unmodifiableMap(new LinkedHashMap<>(topics));
    }

    /** "odin" or "nchan". */
    public String protocol() {
        return nchan == null ? "odin" : "nchan";
    }

    /** Host and port of {@link #url()} (port defaulted to 80). */
    public int port() {
        return url.getPort() == -1 ? 80 : url.getPort();
    }

    /**
     * Reads the command line of {@code odin-ws loadtest} ({@link LoadTestCommand}). Prints the help and returns null
     * for {@code --help}.
     *
     * @throws IllegalArgumentException naming the option and the accepted values
     */
    public static LoadTestOptions parse(String[] args) {
        return LoadTestCommand.parse(args);
    }

    /** This process's settings for a child: a share of the clients, its own addresses, no checks or report file. */
    LoadTestOptions forChild(int connections, int rampPerSecond, List<InetAddress> addresses, int clientOffset) {
        return new LoadTestOptions(url, connections, rampPerSecond, subscribe, channels, heartbeatSeconds,
                durationSeconds, recover, slowFraction, dropFraction, dropAfterSeconds, addresses, 1, null, -1, Double.NaN, Double.NaN, kafka,
                topics, threads, seed, lossGraceMillis, true, clientOffset, nchan == null ? null : nchan.withoutPublisher(),
                privateChannels, auth, slowReadBytesPerSecond, deflate, subscribeOnUpgrade, controlStdin);
    }

    /** The command line that {@link #parse} turns back into these options. */
    List<String> toArgs() {
        List<String> a = new ArrayList<>(List.of("--url", url.toString(), "--connections", "" + connections,
                "--ramp", rampPerSecond + "/s", "--subscribe", subscribe.toString(), "--channels", String.join(",", channels),
                "--heartbeat", "" + heartbeatSeconds, "--duration", "" + durationSeconds,
                "--slow-fraction", "" + slowFraction, "--processes", processes == 0 ? "auto" : "" + processes,
                "--threads", "" + threads, "--seed", "" + seed, "--loss-grace-ms", "" + lossGraceMillis,
                "--client-offset", "" + clientOffset));
        if (recover) a.add("--recover");
        if (slowReadBytesPerSecond > 0) a.addAll(List.of("--slow-read-rate", "" + slowReadBytesPerSecond));
        if (deflate) a.add("--deflate");
        if (subscribeOnUpgrade) a.add("--subscribe-on-upgrade");
        if (controlStdin) a.add("--control-stdin");
        if (dropFraction > 0) a.addAll(List.of("--drop-fraction", "" + dropFraction, "--drop-after", "" + dropAfterSeconds));
        if (child) a.add("--child");
        if (!sourceAddresses.isEmpty()) {
            List<String> s = new ArrayList<>();
            for (InetAddress x : sourceAddresses) s.add(x.getHostAddress());
            a.addAll(List.of("--source-addresses", String.join(",", s)));
        }
        if (reportFile != null) a.addAll(List.of("--report", reportFile));
        if (expectConnections >= 0) a.addAll(List.of("--expect-connections", "" + expectConnections));
        if (!Double.isNaN(maxP99Millis)) a.addAll(List.of("--max-p99-ms", "" + maxP99Millis));
        if (!Double.isNaN(maxLoss)) a.addAll(List.of("--max-loss", "" + maxLoss));
        if (kafka != null) a.addAll(List.of("--kafka", kafka));
        List<String> t = new ArrayList<>();
        topics.forEach((k, v) -> t.add(k + "=" + v));
        a.addAll(List.of("--topics", String.join(",", t)));
        if (!privateChannels.isEmpty()) a.addAll(List.of("--private-channels", String.join(",", privateChannels)));
        if (auth != null) a.addAll(auth.toArgs());
        if (nchan != null) {
            a.addAll(List.of("--protocol", "nchan", "--nchan-rate", "" + nchan.rate(), "--nchan-count", "" + nchan.count(),
                    "--nchan-delay-ms", nchan.delayMillis() < 0 ? "auto" : "" + nchan.delayMillis()));
            if (nchan.publishUrl() != null) a.addAll(List.of("--nchan-publish", nchan.publishUrl().toString()));
        }
        return a;
    }

    static Subscribe subscribeMode(String v) {
        String s = v.trim().toLowerCase(Locale.ROOT);
        if (s.equals("all")) return new Subscribe(Subscribe.Kind.ALL, 0);
        if (s.equals("single")) return new Subscribe(Subscribe.Kind.SINGLE, 1);
        int colon = s.indexOf(':');
        if (colon > 0) {
            String kind = s.substring(0, colon);
            if (kind.equals("random") || kind.equals("zipf")) {
                int n = 0;
                try {
                    n = Integer.parseInt(s.substring(colon + 1));
                } catch (NumberFormatException e) {
                    // reported below, with the accepted values
                }
                if (n < 1 || n > 1_000) {
                    throw new IllegalArgumentException("--subscribe " + kind + ":N needs N 1..1000, got '" + v + "'");
                }
                return new Subscribe(kind.equals("random") ? Subscribe.Kind.RANDOM : Subscribe.Kind.ZIPF, n);
            }
        }
        throw new IllegalArgumentException("--subscribe must be all, single, random:N or zipf:N, got '" + v + "'");
    }

    /** {@code TOKEN.CATEGORY} or {@code *.CATEGORY}, distinct; odin protocol only; with auth, checked against nothing else. */
    private static void checkPrivateChannels(List<String> list, NchanOptions nchan, AuthOptions auth) {
        if (list.isEmpty()) return;
        if (nchan != null) throw new IllegalArgumentException("--private-channels is not supported with --protocol nchan");
        if (new HashSet<>(list).size() != list.size()) throw new IllegalArgumentException("--private-channels must be distinct, got " + list);
        for (String c : list) {
            int dot = c.lastIndexOf('.');
            if (dot == 1 && c.charAt(0) == '*') {
                checkPart("--private-channels", c.substring(2));
            } else {
                checkChannel(c);
            }
        }
    }

    /** The category of a channel name: what follows its last dot. */
    static String categoryOf(String channel) {
        return channel.substring(channel.lastIndexOf('.') + 1);
    }

    private static void checkChannel(String c) {
        if (c != null && c.indexOf('*') >= 0) {
            throw new IllegalArgumentException("--channels: wildcards are not supported (per-channel accounting needs"
                    + " concrete channels), got '" + c + "'");
        }
        int dot = c == null ? -1 : c.lastIndexOf('.');
        if (dot <= 0 || dot == c.length() - 1 || c.length() > 200 || !CHANNEL_PART.matcher(c.substring(dot + 1)).matches()
                || c.chars().anyMatch(ch -> ch <= ' ' || ch == '"' || ch == '\\' || ch > 126)) {
            throw new IllegalArgumentException("--channels entries must be TOKEN.CATEGORY (printable ASCII, no spaces, quotes or"
                    + " backslashes), got '" + c + "'");
        }
    }

    static void checkPart(String option, String s) {
        if (!CHANNEL_PART.matcher(s).matches() || s.chars().anyMatch(ch -> ch < ' ' || ch > 126)) {
            throw new IllegalArgumentException(option + " entries must be 1-128 printable ASCII characters without"
                    + " spaces, dots, quotes or backslashes, got '" + s + "'");
        }
    }

    private static void checkUrl(URI url) {
        if (!"ws".equalsIgnoreCase(url.getScheme())) {
            throw new IllegalArgumentException("--url must be a ws:// URL (wss is not supported), got '" + url + "'");
        }
        if (url.getHost() == null) throw new IllegalArgumentException("--url has no host: '" + url + "'");
        requireLoopback("--url", url.getHost());
    }

    /**
     * A drop needs a time within the run, and --recover: the point is to measure how the dropped clients come
     * back and recover (without it they would stay away). nchan has no recovery to measure.
     */
    private static void checkDrop(double fraction, int afterSeconds, int durationSeconds, boolean recover, NchanOptions nchan) {
        if (!(fraction >= 0 && fraction <= 1)) {
            throw new IllegalArgumentException("--drop-fraction must be a fraction 0..1, got " + fraction);
        }
        if (fraction == 0) {
            if (afterSeconds != 0) throw new IllegalArgumentException("--drop-after needs --drop-fraction > 0");
            return;
        }
        if (nchan != null) throw new IllegalArgumentException("--drop-fraction is not supported with --protocol nchan");
        if (afterSeconds == 0) throw new IllegalArgumentException("--drop-fraction needs --drop-after SECONDS");
        if (afterSeconds < 1 || afterSeconds >= durationSeconds) {
            throw new IllegalArgumentException("--drop-after must be 1..--duration - 1 (" + (durationSeconds - 1)
                    + ") seconds, got " + afterSeconds);
        }
        if (!recover) throw new IllegalArgumentException("--drop-fraction needs --recover (dropped clients reconnect with recovery)");
    }

    /** nchan mode: one channel per client (one socket each), ids usable in the URL, no odin-only features. */
    private static void checkNchan(Subscribe subscribe, List<String> channels, boolean recover, String kafka, NchanOptions nchan) {
        boolean one = switch (subscribe.kind()) {
            case SINGLE -> true;
            case RANDOM, ZIPF -> subscribe.count() == 1;
            case ALL -> channels.size() == 1;
        };
        if (!one) {
            throw new IllegalArgumentException("--subscribe " + subscribe + " with --protocol nchan: a client subscribes to one"
                    + " channel (single, random:1, zipf:1, or all with one channel)");
        }
        if (recover) throw new IllegalArgumentException("--recover is not supported with --protocol nchan");
        if (kafka != null) throw new IllegalArgumentException("--kafka is not supported with --protocol nchan (loss is not measured)");
        for (String c : channels) {
            if (!NchanOptions.CHANNEL_ID.matcher(c).matches()) {
                throw new IllegalArgumentException("--channels with --protocol nchan: ids must be [A-Za-z0-9_.-], got '" + c + "'");
            }
        }
        if (nchan.publishUrl() != null) requireLoopback("--nchan-publish", nchan.publishUrl().getHost());
    }

    public static void requireLoopback(String option, String host) {
        String h = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
        boolean literal = h.matches("\\d{1,3}(\\.\\d{1,3}){3}") || h.contains(":");
        if (!literal && !h.equalsIgnoreCase("localhost")) {
            throw new IllegalArgumentException(option + " must point to a loopback address (127.x.y.z, ::1 or localhost), got '" + host + "'");
        }
        try {
            InetAddress a = InetAddress.getByName(h); // a literal or localhost: no DNS query
            if (!a.isLoopbackAddress()) {
                throw new IllegalArgumentException(option + " must point to a loopback address (127.x.y.z, ::1 or localhost), got '" + host + "'");
            }
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException(option + ": cannot resolve '" + host + "'");
        }
    }

    /** {@code 127.0.0.2-127.0.0.9}, {@code 127.0.0.2,127.0.0.5} or a mix; at most 1024 addresses. */
    public static List<InetAddress> addresses(String value) {
        List<InetAddress> out = new ArrayList<>();
        for (String part : value.split(",", -1)) {
            String p = part.trim();
            int dash = p.indexOf('-');
            long from = ipv4("--source-addresses", dash < 0 ? p : p.substring(0, dash));
            long to = dash < 0 ? from : ipv4("--source-addresses", p.substring(dash + 1));
            if (to < from) throw new IllegalArgumentException("--source-addresses: range '" + p + "' is backwards");
            if (out.size() + (to - from + 1) > 1024) {
                throw new IllegalArgumentException("--source-addresses: at most 1024 addresses, got more in '" + value + "'");
            }
            for (long a = from; a <= to; a++) {
                try {
                    out.add(InetAddress.getByAddress(new byte[] {(byte) (a >>> 24), (byte) (a >>> 16), (byte) (a >>> 8), (byte) a}));
                } catch (UnknownHostException e) {
                    throw new AssertionError(e); // four bytes are always a valid address
                }
            }
        }
        if (new HashSet<>(out).size() != out.size()) {
            throw new IllegalArgumentException("--source-addresses lists an address twice: '" + value + "'");
        }
        return out;
    }

    private static long ipv4(String option, String s) {
        String[] parts = s.trim().split("\\.", -1);
        long v = 0;
        boolean ok = parts.length == 4;
        for (int i = 0; ok && i < 4; i++) {
            try {
                int b = Integer.parseInt(parts[i]);
                ok = b >= 0 && b <= 255 && !parts[i].startsWith("+");
                v = (v << 8) | b;
            } catch (NumberFormatException e) {
                ok = false;
            }
        }
        if (!ok) throw new IllegalArgumentException(option + ": '" + s.trim() + "' is not an IPv4 address");
        if ((v >>> 24) != 127) {
            throw new IllegalArgumentException(option + " must be loopback addresses 127.x.y.z, got '" + s.trim() + "'");
        }
        return v;
    }
}
