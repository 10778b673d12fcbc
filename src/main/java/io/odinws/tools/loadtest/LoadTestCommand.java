package io.odinws.tools.loadtest;

import io.odinws.tools.Commands;
import io.odinws.tools.publish.PublisherOptions;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ThreadLocalRandom;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.TypeConversionException;

/**
 * {@code odin-ws loadtest [options]}: the load generator's command line. Picocli reads the options; this class
 * combines them (the default channel list, the nchan settings) and {@link LoadTestOptions} checks each value.
 * Exit status: 0 all expectations met, 1 an expectation failed, 2 bad command line, 3 the run could not be done.
 */
@Command(name = "loadtest", sortOptions = false, abbreviateSynopsis = true, usageHelpWidth = 120,
        description = "Opens many WebSocket clients against odin-ws (loopback only), subscribes them, and measures "
            + "delivery, latency, duplicates, reordering and (with --kafka) loss. Progress goes to stderr every "
            + "second; the JSON report goes to stdout (and --report). Exit status 1 when an expectation fails.")
public final class LoadTestCommand implements Callable<Integer> {

    @Option(names = "--url", paramLabel = "URL", description = "ws://HOST:PORT/PATH, HOST a loopback address (default "
            + LoadTestOptions.DEFAULT_URL + "; with --protocol nchan " + LoadTestOptions.DEFAULT_NCHAN_URL + ")")
    private String url;

    @Option(names = "--connections", paramLabel = "N",
            description = "clients to open, all processes together, 1.." + LoadTestOptions.MAX_CONNECTIONS + " (default ${DEFAULT-VALUE})")
    private int connections = 100;

    @Option(names = "--ramp", paramLabel = "N/s", converter = PerSecond.class,
            description = "connection opening rate, all processes together (default 1000/s)")
    private int ramp = 1000;

    @Option(names = "--subscribe", paramLabel = "MODE", description = {"all | single | random:N | zipf:N (default ${DEFAULT-VALUE})",
        "  all: every channel; single: one channel per client (round-robin);",
        "  random:N: N distinct uniform channels; zipf:N: N distinct channels",
        "  drawn by Zipf (s=1.1) over the channel list (first = most popular)"})
    private String subscribe = "single";

    @Option(names = "--channels", paramLabel = "CHANNEL", split = "\\s*,\\s*", splitSynopsisLabel = ",",
            description = "the channel list, e.g. A.x,B.y (default: --tokens x --categories)")
    private List<String> channels;

    @Option(names = "--tokens", paramLabel = "TOKEN", split = "\\s*,\\s*", splitSynopsisLabel = ",",
            description = "tokens for the default channel list (default: the 20 Odin tokens)")
    private List<String> tokens;

    @Option(names = "--categories", paramLabel = "CATEGORY", split = "\\s*,\\s*", splitSynopsisLabel = ",",
            description = "categories for the default channel list (default: the 8 Odin categories)")
    private List<String> categories;

    @Option(names = "--heartbeat", paramLabel = "SECONDS",
            description = "send {\"type\":\"heartbeat\"} this often per client; 0 = off (default ${DEFAULT-VALUE})")
    private int heartbeat = 30;

    @Option(names = "--duration", paramLabel = "SECONDS",
            description = "run length including the ramp, 1.." + LoadTestOptions.MAX_DURATION_SECONDS + " (default ${DEFAULT-VALUE})")
    private int duration = 60;

    @Option(names = "--recover", description = "keep the last pos per channel; after a close, reconnect with jittered exponential backoff (100 ms .. "
            + "10 s), after a refused upgrade (429, 503) no sooner than its Retry-After (plus up to half as long again), "
            + "and send reconnect with last_offset")
    private boolean recover;

    @Option(names = "--deflate", description = "offer permessage-deflate (RFC 7692) like a browser, and inflate what comes "
            + "compressed; the report's wire_bytes counts the bytes received from the socket, before inflation")
    private boolean deflate;

    @Option(names = "--subscribe-on-upgrade", description = "name each client's channels in its first upgrade's URL (?subscribe=...) "
            + "instead of sending a subscribe message; a reconnect (--recover) subscribes by message, with its positions")
    private boolean subscribeOnUpgrade;

    @Option(names = "--slow-fraction", paramLabel = "F",
            description = "this fraction of clients stops reading after its ack, 0..1 (default 0)")
    private double slowFraction;

    @Option(names = "--slow-read-rate", paramLabel = "BYTES_PER_SECOND",
            description = "the slow clients read this many bytes per second instead of nothing (default 0: they stop reading); "
                    + "what they get is counted apart (messages.slow_*): how many, how many the server said it skipped, how far behind")
    private long slowReadRate;

    @Option(names = "--drop-fraction", paramLabel = "F", description = "with --recover: drop this fraction of the clients "
            + "at once, 0..1 (default 0): at --drop-after every chosen client whose socket is open is reset (SO_LINGER 0, "
            + "no close frame, like a network failure) and reconnects with recovery; the report's \"drop\" section counts "
            + "dropped / back (subscription_ack again) / recovered (reconnect_ack with nothing recovered:false) and the "
            + "times from the drop until all are back and recovered. Clients are chosen by index, spread evenly, apart "
            + "from the slow ones where the fractions allow")
    private double dropFraction;

    @Option(names = "--drop-after", paramLabel = "SECONDS",
            description = "when to drop, seconds from the start of the run, 1..--duration - 1 (required with --drop-fraction)")
    private Integer dropAfter;

    @Option(names = "--source-addresses", paramLabel = "LIST", description = "bind clients round-robin to these 127.x.y.z addresses, e.g. 127.0.0.2-127.0.0.9 or "
            + "127.0.0.2,127.0.0.3 (default: the OS picks; with several processes: 127.0.0.2, 127.0.0.3, .. one per "
            + "process)")
    private String sourceAddresses;

    @Option(names = "--processes", paramLabel = "auto|N",
            description = "client processes; auto = one per ~19000 connections (default ${DEFAULT-VALUE})")
    private String processes = "auto";

    @Option(names = "--threads", paramLabel = "N", description = "event-loop threads per process, 1..16 (default ${DEFAULT-VALUE})")
    private int threads = 1;

    @Option(names = "--report", paramLabel = "FILE.json", description = "also write the JSON report to this file")
    private String report;

    @Option(names = "--expect-connections", paramLabel = "N",
            description = "fail unless >= N clients are subscribed and still open at the end")
    private int expectConnections = -1;

    @Option(names = "--max-p99-ms", paramLabel = "X",
            description = "fail if p99 latency (producer->client, else server->client) > X ms")
    private double maxP99Millis = Double.NaN;

    @Option(names = "--max-loss", paramLabel = "F", description = "fail if the loss fraction > F, 0..1 (needs --kafka)")
    private double maxLoss = Double.NaN;

    @Option(names = "--kafka", paramLabel = "HOST:PORT[,..]", description = "ground truth: read the Odin topics from their end offsets at start and count, per client and "
            + "channel, offsets produced in the window [ack + grace, end - grace] that never arrived (default: loss "
            + "= null)")
    private String kafka;

    @Option(names = "--topics", paramLabel = "TOPIC=CATEGORY", split = "\\s*,\\s*", splitSynopsisLabel = ",",
            description = "topic per category for --kafka (default: the Odin topics)")
    private Map<String, String> topics;

    @Option(names = "--loss-grace-ms", paramLabel = "MS", description = "margin of the loss window, 0..60000 (default ${DEFAULT-VALUE})")
    private long lossGraceMillis = 2000;

    @Option(names = "--control-stdin", description = "read commands from stdin, one a line: 'measure' starts the report's "
            + "latency percentiles again from the next second, leaving out what came before (the stream's and the "
            + "generator's start); 'hold' ends them with the current second, leaving out what comes after (the end of "
            + "the harness's window); the per-second lines are unchanged. For a harness that measures a window of the run")
    private boolean controlStdin;

    @Option(names = "--seed", paramLabel = "N", description = "random seed for channel draws, slow clients and jitter (default random)")
    private Long seed;

    @Option(names = "--protocol", paramLabel = "odin|nchan", description = "odin (default): the odin-ws protocol above. nchan: each client is an nchan WebSocket subscriber of "
            + "ONE channel (--subscribe single, or random:1 / zipf:1), connecting to --url's path + /<channel> "
            + "(path empty or / means /sub: --url ws://127.0.0.1:PORT gives ws://127.0.0.1:PORT/sub/BTC.trade); it "
            + "sends nothing (no subscribe, no heartbeat) and counts every text frame as a delivery; it is "
            + "\"subscribed\" once the handshake is done. Not with --recover or --kafka. Channel ids: "
            + "[A-Za-z0-9_.-]")
    private String protocol = "odin";

    @Option(names = "--nchan-publish", paramLabel = "URL", description = "nchan only: also publish from this process: POST URL's path + /<channel> (path empty or / means "
            + "/pub: http://127.0.0.1:PORT gives http://127.0.0.1:PORT/pub/BTC.trade); body = the odin-ws envelope "
            + "with seq per channel, ts and data.timestamp = publish time (ms)")
    private String nchanPublish;

    @Option(names = "--nchan-rate", paramLabel = "N", converter = PerSecond.class,
            description = "messages/s over all channels, round-robin, open loop (default 10)")
    private Integer nchanRate;

    @Option(names = "--nchan-count", paramLabel = "N",
            description = "stop publishing after N messages; 0 = at the end of the run (default 0)")
    private Long nchanCount;

    @Option(names = "--nchan-delay-ms", paramLabel = "MS|auto", description = "start publishing this long after the run starts; auto = once nchan counts --connections subscribers "
            + "on the channels (GET on the publisher URLs), at most ramp + 31 s (default auto); publishing stops 1 "
            + "s before the end")
    private String nchanDelay;

    @Option(names = "--private-channels", paramLabel = "CHANNEL", split = "\\s*,\\s*", splitSynopsisLabel = ",",
            description = {"every client also subscribes to these: TOKEN.CATEGORY or *.CATEGORY (e.g. *.balances), sent",
                "as given; *.CATEGORY is accounted as that category's channel of every token of the channel list"})
    private List<String> privateChannels;

    @Option(names = "--auth-secret-file", paramLabel = "FILE", description = "authenticate with HS256 tokens signed with this secret "
            + "(the file's bytes, one trailing newline removed)")
    private String authSecretFile;

    @Option(names = "--auth-private-key", paramLabel = "FILE.pem", description = "authenticate with tokens signed with this PKCS#8 PEM "
            + "private key (--auth-alg RS256 or ES256)")
    private String authPrivateKey;

    @Option(names = "--auth-alg", paramLabel = "ALG", description = "HS256 | RS256 | ES256 (default: HS256 with --auth-secret-file, "
            + "RS256 with --auth-private-key)")
    private String authAlg;

    @Option(names = "--auth-present", paramLabel = "WHERE", description = {"header | message | query (default message):",
        "  header: Authorization: Bearer on the upgrade; query: ?token= on the upgrade URL;",
        "  message: {\"type\":\"auth\",\"data\":{\"token\":..}} right after the upgrade, then the",
        "  subscription once auth_ack (or auth_error, counted as a failure) arrives"})
    private String authPresent;

    @Option(names = "--auth-users", paramLabel = "N", description = "distinct users: client i gets sub PREFIX<i mod N>, one token "
            + "minted per user (default: --connections)")
    private Integer authUsers;

    @Option(names = "--auth-user-prefix", paramLabel = "PREFIX", description = "sub prefix (default " + AuthOptions.DEFAULT_USER_PREFIX
            + "; the publisher's --wallet-prefix must match for private records)")
    private String authUserPrefix;

    @Option(names = "--auth-issuer", paramLabel = "ISS", description = "iss claim (default none)")
    private String authIssuer;

    @Option(names = "--auth-audience", paramLabel = "AUD", description = "aud claim (default none)")
    private String authAudience;

    @Option(names = "--auth-ttl", paramLabel = "SECONDS", description = "token lifetime (default: --duration + 1 h)")
    private Long authTtl;

    @Option(names = "--private-categories", paramLabel = "CATEGORY", split = "\\s*,\\s*", splitSynopsisLabel = ",",
            description = "with auth: records of these categories go to their owners only (loss counts a client's own "
                    + "records; any other delivered is a leak); none = no private category (default balances)")
    private List<String> privateCategories;

    @Option(names = "--owner-pointers", paramLabel = "POINTER", split = "\\s*,\\s*", splitSynopsisLabel = ",",
            description = "JSON pointers of a private record's owners in its value (default /data/user,/data/from,/data/to)")
    private List<String> ownerPointers;

    @Option(names = "--child", hidden = true, description = "internal: this process is a child of a spread run")
    private boolean child;

    @Option(names = "--client-offset", hidden = true, description = "internal: index of this process's first client")
    private int clientOffset;

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "print this help")
    private boolean help;

    @Spec
    private CommandLine.Model.CommandSpec spec;

    private final PrintStream out;
    private final PrintStream err;
    private final boolean stopOnSignal;

    /** The command of {@code odin-ws loadtest}: report to stdout, progress to stderr, Ctrl-C ends the run early. */
    public LoadTestCommand() {
        this(System.out, System.err, true);
    }

    LoadTestCommand(PrintStream out, PrintStream err, boolean stopOnSignal) {
        this.out = out;
        this.err = err;
        this.stopOnSignal = stopOnSignal;
    }

    /** See {@link LoadTestOptions#parse}. */
    static LoadTestOptions parse(String[] args) {
        LoadTestCommand command = new LoadTestCommand();
        return Commands.parse(command, args) ? command.options() : null;
    }

    @Override
    public Integer call() {
        LoadTestOptions options;
        int n;
        try {
            options = options();
            n = options.child() ? 1 : ProcessSpreader.processesFor(options, ProcessSpreader.maxOpenFiles());
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
        return stopOnSignal ? LoadTest.runUntilSignal(options, n, out, err) : LoadTest.run(options, n, out, err);
    }

    /** The options as given, combined and checked; throws IllegalArgumentException naming the option at fault. */
    LoadTestOptions options() {
        if (dropAfter != null && (dropAfter < 1 || dropAfter > LoadTestOptions.MAX_DURATION_SECONDS)) {
            throw new IllegalArgumentException("--drop-after must be 1.." + LoadTestOptions.MAX_DURATION_SECONDS + " seconds, got " + dropAfter);
        }
        List<String> channelList = channels;
        if (channelList != null && (tokens != null || categories != null)) {
            throw new IllegalArgumentException("--channels cannot be combined with --tokens/--categories");
        }
        if (channelList == null) {
            channelList = new ArrayList<>();
            for (String t : tokens == null ? LoadTestOptions.DEFAULT_TOKENS : tokens) {
                LoadTestOptions.checkPart("--tokens", t);
                for (String c : categories == null ? LoadTestOptions.DEFAULT_CATEGORIES : categories) {
                    LoadTestOptions.checkPart("--categories", c);
                    channelList.add(t + "." + c);
                }
            }
        }
        String proto = protocol.trim().toLowerCase(Locale.ROOT);
        NchanOptions nchan = null;
        String target = url == null ? null : url.trim();
        if (proto.equals("nchan")) {
            nchan = new NchanOptions(nchanPublish == null ? null : uri("--nchan-publish", nchanPublish.trim()),
                    nchanRate == null ? 10 : nchanRate, nchanCount == null ? 0 : nchanCount, delayMillis());
            if (target == null) target = LoadTestOptions.DEFAULT_NCHAN_URL;
        } else if (!proto.equals("odin")) {
            throw new IllegalArgumentException("--protocol must be odin or nchan, got '" + protocol + "'");
        } else if (nchanPublish != null || nchanRate != null || nchanCount != null || nchanDelay != null) {
            throw new IllegalArgumentException("--nchan-publish, --nchan-rate, --nchan-count and --nchan-delay-ms need --protocol nchan");
        }
        List<InetAddress> sources = sourceAddresses == null ? List.of() : LoadTestOptions.addresses(sourceAddresses);
        return new LoadTestOptions(uri("--url", target == null ? LoadTestOptions.DEFAULT_URL : target), connections, ramp,
                LoadTestOptions.subscribeMode(subscribe), channelList, heartbeat, duration, recover, slowFraction,
                dropFraction, dropAfter == null ? 0 : dropAfter, sources, processCount(), report == null ? null : report.trim(),
                expectConnections, maxP99Millis, maxLoss, kafka == null ? null : kafka.trim(),
                topics == null ? PublisherOptions.DEFAULT_TOPICS : topics, threads,
                seed != null ? seed : ThreadLocalRandom.current().nextLong(), lossGraceMillis, child, clientOffset, nchan,
                privateChannels, auth(), slowReadRate, deflate, subscribeOnUpgrade, controlStdin);
    }

    /** The authentication settings, or null when no key is given (then no other --auth-* option may be). */
    private AuthOptions auth() {
        if (authSecretFile == null && authPrivateKey == null) {
            if (authAlg != null || authPresent != null || authUsers != null || authUserPrefix != null || authIssuer != null
                    || authAudience != null || authTtl != null || privateCategories != null || ownerPointers != null) {
                throw new IllegalArgumentException("--auth-* options, --private-categories and --owner-pointers need "
                        + "--auth-secret-file or --auth-private-key");
            }
            return null;
        }
        if (authSecretFile != null && authPrivateKey != null) {
            throw new IllegalArgumentException("--auth-secret-file and --auth-private-key are exclusive");
        }
        String alg = authAlg != null ? authAlg.trim().toUpperCase(Locale.ROOT) : authSecretFile != null ? "HS256" : "RS256";
        if (authSecretFile != null && !alg.equals("HS256")) {
            throw new IllegalArgumentException("--auth-secret-file signs HS256; --auth-alg " + alg + " needs --auth-private-key");
        }
        if (authPrivateKey != null && alg.equals("HS256")) {
            throw new IllegalArgumentException("--auth-alg HS256 needs --auth-secret-file, not --auth-private-key");
        }
        Map<String, List<String>> owners = new LinkedHashMap<>();
        List<String> categories = privateCategories == null ? List.of("balances") : privateCategories;
        if (!(categories.size() == 1 && categories.get(0).equalsIgnoreCase("none"))) {
            for (String c : categories) {
                LoadTestOptions.checkPart("--private-categories", c);
                owners.put(c, ownerPointers == null ? AuthOptions.DEFAULT_OWNER_POINTERS : ownerPointers);
            }
        } else if (ownerPointers != null) {
            throw new IllegalArgumentException("--owner-pointers with --private-categories none");
        }
        return new AuthOptions(alg, (authSecretFile != null ? authSecretFile : authPrivateKey).trim(),
                authPresent == null ? AuthOptions.Present.MESSAGE : AuthOptions.present(authPresent),
                authUsers == null ? connections : authUsers,
                authUserPrefix == null ? AuthOptions.DEFAULT_USER_PREFIX : authUserPrefix,
                blankToNull(authIssuer), blankToNull(authAudience),
                authTtl == null ? duration + 3600L : authTtl, owners);
    }

    private static String blankToNull(String s) {
        return s == null || s.isBlank() ? null : s.trim();
    }

    private int processCount() {
        return autoOr("--processes", processes, 1, LoadTestOptions.MAX_PROCESSES, 0);
    }

    private long delayMillis() {
        return nchanDelay == null ? -1 : autoOr("--nchan-delay-ms", nchanDelay, 0, 3_600_000, -1);
    }

    /** {@code auto} (as {@code auto}), or a whole number in {@code [min, max]}. */
    private static int autoOr(String option, String value, int min, int max, int auto) {
        String v = value.trim();
        if (v.equalsIgnoreCase("auto")) return auto;
        try {
            int n = Integer.parseInt(v);
            if (n >= min && n <= max) return n;
        } catch (NumberFormatException e) {
            // reported below, with the accepted values
        }
        throw new IllegalArgumentException(option + " must be auto or " + min + ".." + max + ", got '" + value + "'");
    }

    private static URI uri(String option, String value) {
        try {
            return new URI(value);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException(option + " is not a valid URL: '" + value + "'");
        }
    }

    /** A rate, {@code N} or {@code N/s}. */
    static final class PerSecond implements ITypeConverter<Integer> {
        @Override
        public Integer convert(String value) {
            String v = value.trim();
            try {
                return Integer.valueOf(v.endsWith("/s") ? v.substring(0, v.length() - 2) : v);
            } catch (NumberFormatException e) {
                throw new TypeConversionException("'" + value + "' is not N/s (N a whole number)");
            }
        }
    }
}
