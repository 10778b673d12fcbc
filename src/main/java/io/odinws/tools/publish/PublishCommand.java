package io.odinws.tools.publish;

import io.odinws.tools.Commands;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code odin-ws publish [options]}: the demo publisher's command line. Picocli reads the options; the
 * {@link PublisherOptions} record checks what it cannot (ranges, formats, distinct values).
 */
@Command(name = "publish", sortOptions = false, abbreviateSynopsis = true,
        description = "Publishes a realistic mix of Odin market events to Kafka at a fixed rate.")
public final class PublishCommand implements Callable<Integer> {

    @Option(names = "--bootstrap", paramLabel = "HOST:PORT[,..]",
            description = "Kafka bootstrap servers (default: $KAFKA_BROKERS or " + PublisherOptions.DEFAULT_BOOTSTRAP + ")")
    private String bootstrap;

    @Option(names = "--rate", paramLabel = "N", description = "events per second, 1..100000 (default: ${DEFAULT-VALUE})")
    private int rate = PublisherOptions.DEFAULT_RATE;

    @Option(names = "--tokens", paramLabel = "TOKEN", split = "\\s*,\\s*", splitSynopsisLabel = ",",
            description = "token ids used as record keys (default: 20 well-known tokens)")
    private List<String> tokens;

    @Option(names = "--duration", paramLabel = "SECONDS", description = "stop after this long; 0 = until stopped (default: ${DEFAULT-VALUE})")
    private long durationSeconds;

    @Option(names = "--max-events", paramLabel = "N", description = "stop after N events; 0 = no limit (default: ${DEFAULT-VALUE})")
    private long maxEvents;

    @Option(names = "--seed", paramLabel = "N", description = "random seed for a reproducible stream (default: random)")
    private Long seed;

    @Option(names = "--topics", paramLabel = "TOPIC=CATEGORY", split = "\\s*,\\s*", splitSynopsisLabel = ",",
            description = {"topic per category; categories: trade liquidity metadata social community creation analytics"
                    + " balances (default: odin.<category>, odin.trades for trade); unmapped categories are not produced"})
    private Map<String, String> topics;

    @Option(names = "--wallets", paramLabel = "N", description = {"balance and transfer parties (BALANCE_UPDATED user, TRANSFER_COMPLETED",
            "from/to) drawn from PREFIX0..PREFIX<N-1> instead of random addresses: the load generator's",
            "--auth-users, for private channels (default: random addresses)"})
    private int wallets;

    @Option(names = "--wallet-prefix", paramLabel = "PREFIX", description = "prefix of those parties (default: ${DEFAULT-VALUE})")
    private String walletPrefix = PublisherOptions.DEFAULT_WALLET_PREFIX;

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "print this help")
    private boolean help;

    @Spec
    private CommandLine.Model.CommandSpec spec;

    /**
     * The options of {@code args}, or null after printing the help for {@code --help}; the bootstrap
     * defaults to {@code KAFKA_BROKERS} in {@code env}.
     *
     * @throws IllegalArgumentException naming the option and the accepted values
     */
    static PublisherOptions parse(String[] args, Map<String, String> env) {
        PublishCommand command = new PublishCommand();
        return Commands.parse(command, args) ? command.options(env) : null;
    }

    private PublisherOptions options(Map<String, String> env) {
        String b = bootstrap;
        if (b == null) {
            String fromEnv = env.get("KAFKA_BROKERS");
            b = fromEnv == null || fromEnv.isBlank() ? PublisherOptions.DEFAULT_BOOTSTRAP : fromEnv;
        }
        return new PublisherOptions(b.trim(), rate, tokens != null ? tokens : PublisherOptions.DEFAULT_TOKENS, durationSeconds,
                topics != null ? topics : PublisherOptions.DEFAULT_TOPICS,
                seed != null ? seed : ThreadLocalRandom.current().nextLong(), maxEvents, wallets, walletPrefix);
    }

    /** Publishes until the duration or the event count is reached, or SIGTERM/Ctrl-C; exit status 0. */
    @Override
    public Integer call() throws InterruptedException {
        PublisherOptions options;
        try {
            options = options(System.getenv());
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
        DemoPublisher publisher = DemoPublisher.start(options);
        // On a signal the JVM would exit 143; an interrupted demo is a normal end, so close and exit 0.
        Thread hook = new Thread(() -> {
            publisher.close();
            Runtime.getRuntime().halt(0);
        }, "odin-publisher-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        publisher.awaitDone(Long.MAX_VALUE, TimeUnit.DAYS);
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            return 0; // the hook is closing the publisher and will exit
        }
        publisher.close(); // schedule exhausted: flush, log the summary
        return 0;
    }
}
