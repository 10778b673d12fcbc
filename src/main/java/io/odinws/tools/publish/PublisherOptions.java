package io.odinws.tools.publish;

import io.odinws.tools.CliArgs;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
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
 */
public record PublisherOptions(String bootstrap, int rate, List<String> tokens, long durationSeconds,
                               Map<String, String> topics, long seed, long maxEvents) {
    public static final String DEFAULT_BOOTSTRAP = "localhost:9092";
    public static final int DEFAULT_RATE = 100;
    public static final int MAX_RATE = 100_000;
    public static final List<String> DEFAULT_TOKENS = List.of("BTC", "ETH", "SOL", "DOGE", "ODIN", "AVAX",
            "MATIC", "LINK", "UNI", "AAVE", "SUSHI", "COMP", "MKR", "SNX", "YFI", "CRV", "BAL", "RUNE", "LUNA", "ATOM");
    public static final Map<String, String> DEFAULT_TOPICS = defaultTopics();

    private static final Pattern TOKEN = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,31}");
    private static final Pattern TOPIC = Pattern.compile("[A-Za-z0-9._-]{1,249}");
    private static final String ONE_HOST_PORT = "(\\[[0-9A-Fa-f:.]+]|[^\\s,:\\[\\]]+):\\d{1,5}"; // host or [IPv6]
    private static final Pattern HOST_PORT = Pattern.compile(ONE_HOST_PORT + "(," + ONE_HOST_PORT + ")*");

    public static final String USAGE = """
            Usage: odin-ws publish [options]
            Publishes a realistic mix of Odin market events to Kafka at a fixed rate.
              --bootstrap HOST:PORT[,..]  Kafka bootstrap servers (default: $KAFKA_BROKERS or localhost:9092)
              --rate N                    events per second, 1..100000 (default 100)
              --tokens A,B,..             token ids used as record keys (default: 20 well-known tokens)
              --duration SECONDS          stop after this long; 0 = until stopped (default 0)
              --max-events N              stop after N events; 0 = no limit (default 0)
              --seed N                    random seed for a reproducible stream (default: random)
              --topics T=CAT,..           topic per category; categories: trade liquidity metadata social
                                          community creation analytics balances (default: odin.<category>,
                                          odin.trades for trade); unmapped categories are not produced
              --help                      print this help
            """;

    public PublisherOptions {
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

    /** All defaults, bootstrap from {@code KAFKA_BROKERS} if set, and a random seed. */
    public static PublisherOptions defaults() {
        return new PublisherOptions(envBootstrap(System.getenv()), DEFAULT_RATE, DEFAULT_TOKENS, 0, DEFAULT_TOPICS,
                ThreadLocalRandom.current().nextLong(), 0);
    }

    /**
     * Parses the command line ({@code --opt value} or {@code --opt=value}), defaulting the bootstrap to the
     * {@code KAFKA_BROKERS} environment variable. Prints {@link #USAGE} and returns null for {@code --help}.
     *
     * @throws IllegalArgumentException naming the option and the accepted values
     */
    public static PublisherOptions parse(String[] args) {
        return parse(args, System.getenv());
    }

    /** {@link #parse(String[])} with an explicit environment (for tests). */
    static PublisherOptions parse(String[] args, Map<String, String> env) {
        String bootstrap = envBootstrap(env);
        int rate = DEFAULT_RATE;
        List<String> tokens = DEFAULT_TOKENS;
        long duration = 0;
        long maxEvents = 0;
        long seed = ThreadLocalRandom.current().nextLong();
        Map<String, String> topics = DEFAULT_TOPICS;
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            if (arg.equals("--help") || arg.equals("-h")) {
                System.out.print(USAGE);
                return null;
            }
            CliArgs.Option option = CliArgs.read(args, i, PublisherOptions::isOption);
            String name = option.name();
            String value = option.value();
            i = option.last();
            if (!isOption(name)) {
                throw new IllegalArgumentException("unknown option '" + arg + "'; accepted: --bootstrap, --rate, "
                        + "--tokens, --duration, --max-events, --seed, --topics, --help");
            }
            if (value == null) throw new IllegalArgumentException(name + " needs a value");
            switch (name) {
                case "--bootstrap" -> bootstrap = value.trim();
                case "--rate" -> rate = (int) CliArgs.number(name, value, 1, MAX_RATE, "1.." + MAX_RATE + " events/s");
                case "--tokens" -> tokens = list(value);
                case "--duration" -> duration = CliArgs.number(name, value, 0, Long.MAX_VALUE / 1_000_000_000L, "seconds >= 0 (0 = until stopped)");
                case "--max-events" -> maxEvents = CliArgs.number(name, value, 0, Long.MAX_VALUE, "an integer >= 0 (0 = no limit)");
                case "--seed" -> seed = CliArgs.number(name, value, Long.MIN_VALUE, Long.MAX_VALUE, "a 64-bit integer");
                case "--topics" -> topics = topicMap(value);
                default -> throw new AssertionError(name);
            }
        }
        return new PublisherOptions(bootstrap, rate, tokens, duration, topics, seed, maxEvents);
    }

    private static boolean isOption(String s) {
        return switch (s) {
            case "--bootstrap", "--rate", "--tokens", "--duration", "--max-events", "--seed", "--topics" -> true;
            default -> false;
        };
    }

    private static String envBootstrap(Map<String, String> env) {
        String v = env.get("KAFKA_BROKERS");
        return v == null || v.isBlank() ? DEFAULT_BOOTSTRAP : v.trim();
    }

    private static List<String> list(String value) {
        List<String> out = new ArrayList<>();
        for (String s : value.split(",", -1)) out.add(s.trim());
        return out;
    }

    private static Map<String, String> topicMap(String value) {
        Map<String, String> out = new LinkedHashMap<>();
        for (String pair : list(value)) {
            int eq = pair.indexOf('=');
            if (eq <= 0 || eq == pair.length() - 1) {
                throw new IllegalArgumentException("--topics entries must be TOPIC=CATEGORY, got '" + pair + "'");
            }
            if (out.put(pair.substring(0, eq).trim(), pair.substring(eq + 1).trim()) != null) {
                throw new IllegalArgumentException("--topics: topic '" + pair.substring(0, eq) + "' given twice");
            }
        }
        return out;
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
