package io.odinws.tools.publish;

import io.odinws.config.PagesConfig;

import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Settings of the demo publisher.
 *
 * @param bootstrap       Kafka bootstrap servers, HOST:PORT[,HOST:PORT...]
 * @param rate            events per second, 1..100000
 * @param tokens          token ids (record keys), distinct
 * @param durationSeconds how long to publish; 0 = until stopped
 * @param topics          topic name to category ({@link OdinEventType#CATEGORIES}), insertion-ordered
 * @param seed            random seed (same seed, same event stream)
 * @param maxEvents       stop after this many events; 0 = no limit
 * @param wallets         0: balance and transfer parties are random 0x addresses; N: they are
 *                        {@code walletPrefix + 0 .. walletPrefix + (N-1)} (the load generator's users, for private
 *                        channels)
 * @param walletPrefix    see {@code wallets}
 */
public record PublisherOptions(String bootstrap, int rate, List<String> tokens, long durationSeconds,
                               Map<String, String> topics, long seed, long maxEvents, int wallets, String walletPrefix) {
    public static final String DEFAULT_BOOTSTRAP = "localhost:9092";
    public static final int DEFAULT_RATE = 100;
    public static final int MAX_RATE = 100_000;
    /** The server's {@code pages.marketTokens} default, so the market page shows what the publisher publishes. */
    public static final List<String> DEFAULT_TOKENS = PagesConfig.DEMO_TOKENS;
    public static final Map<String, String> DEFAULT_TOPICS = defaultTopics();

    private static final Pattern TOKEN = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,31}");
    private static final Pattern TOPIC = Pattern.compile("[A-Za-z0-9._-]{1,249}");
    private static final String ONE_HOST_PORT = "(\\[[0-9A-Fa-f:.]+]|[^\\s,:\\[\\]]+):\\d{1,5}"; // host or [IPv6]
    private static final Pattern HOST_PORT = Pattern.compile(ONE_HOST_PORT + "(," + ONE_HOST_PORT + ")*");

    public static final String DEFAULT_WALLET_PREFIX = "user-";
    public static final int MAX_WALLETS = 10_000_000;
    private static final Pattern WALLET_PREFIX = Pattern.compile("[A-Za-z0-9_.:@-]{0,64}");

    /** Random 0x wallets (no --wallets). */
    public PublisherOptions(String bootstrap, int rate, List<String> tokens, long durationSeconds,
                            Map<String, String> topics, long seed, long maxEvents) {
        this(bootstrap, rate, tokens, durationSeconds, topics, seed, maxEvents, 0, DEFAULT_WALLET_PREFIX);
    }

    public PublisherOptions {
        if (wallets != 0 && (wallets < 2 || wallets > MAX_WALLETS)) {
            throw new IllegalArgumentException("--wallets must be 2.." + MAX_WALLETS + " (a transfer needs two parties), got " + wallets);
        }
        if (walletPrefix == null || !WALLET_PREFIX.matcher(walletPrefix).matches()) {
            throw new IllegalArgumentException("--wallet-prefix must be 0-64 of [A-Za-z0-9_.:@-], got '" + walletPrefix + "'");
        }
        if (bootstrap == null || !HOST_PORT.matcher(bootstrap).matches()) {
            throw new IllegalArgumentException("--bootstrap must be HOST:PORT[,HOST:PORT...], got '" + bootstrap + "'");
        }
        if (rate < 1 || rate > MAX_RATE) {
            throw new IllegalArgumentException("--rate must be 1.." + MAX_RATE + " events/s, got " + rate);
        }
        if (tokens == null || tokens.isEmpty()) throw new IllegalArgumentException("--tokens must name at least one token");
        for (String t : tokens) {
            if (t == null || !TOKEN.matcher(t).matches()) {
                throw new IllegalArgumentException("--tokens entries must be 1-32 of [A-Za-z0-9._-], got '" + t + "'");
            }
        }
        if (new HashSet<>(tokens).size() != tokens.size()) {
            throw new IllegalArgumentException("--tokens must be distinct, got " + tokens);
        }
        if (durationSeconds < 0) throw new IllegalArgumentException("--duration must be >= 0 seconds (0 = until stopped), got " + durationSeconds);
        if (maxEvents < 0) throw new IllegalArgumentException("--max-events must be >= 0 (0 = no limit), got " + maxEvents);
        if (topics == null || topics.isEmpty()) throw new IllegalArgumentException("--topics must map at least one topic");
        var seen = new HashSet<String>();
        for (var e : topics.entrySet()) {
            if (!TOPIC.matcher(e.getKey()).matches()) {
                throw new IllegalArgumentException("--topics: invalid topic name '" + e.getKey() + "' (accepted: [A-Za-z0-9._-]{1,249})");
            }
            if (!OdinEventType.CATEGORIES.contains(e.getValue())) {
                throw new IllegalArgumentException("--topics: unknown category '" + e.getValue() + "' for topic '"
                        + e.getKey() + "'; accepted: " + String.join(", ", OdinEventType.CATEGORIES));
            }
            if (!seen.add(e.getValue())) {
                throw new IllegalArgumentException("--topics: category '" + e.getValue() + "' is mapped to more than one topic");
            }
        }
        tokens = List.copyOf(tokens);
        topics = Collections.unmodifiableMap(new LinkedHashMap<>(topics));
    }

    /**
     * Reads the command line of {@code odin-ws publish} ({@link PublishCommand}), the bootstrap defaulting to the
     * {@code KAFKA_BROKERS} environment variable. Prints the help and returns null for {@code --help}.
     *
     * @throws IllegalArgumentException naming the option and the accepted values
     */
    public static PublisherOptions parse(String[] args) {
        return PublishCommand.parse(args, System.getenv());
    }

    private static Map<String, String> defaultTopics() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("odin.trades", "trade");
        m.put("odin.liquidity", "liquidity");
        m.put("odin.metadata", "metadata");
        m.put("odin.social", "social");
        m.put("odin.community", "community");
        m.put("odin.creation", "creation");
        m.put("odin.analytics", "analytics");
        m.put("odin.balances", "balances");
        return Collections.unmodifiableMap(m);
    }
}
