package io.odinws.tools.hostile;

import io.odinws.tools.Commands;
import io.odinws.tools.loadtest.LoadTestOptions;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code odin-ws hostile [options]}: sockets that misbehave against a server on this machine, for the bench's edge
 * soak and for trying the server's defences by hand. Prints a JSON summary of every socket's fate by kind and
 * reason. Exit status: 0 the run was done, 2 bad command line, 3 the run could not be done.
 */
@Command(name = "hostile", sortOptions = false, abbreviateSynopsis = true, usageHelpWidth = 120,
        description = "Opens misbehaving sockets against odin-ws (loopback only) for --duration seconds: slow-loris, "
            + "half-open, flood, reconnect loop, oversize frame. Each slot keeps one socket of its kind open: when the "
            + "socket ends, the slot opens the next after --pause-ms. At the end every open socket is counted and "
            + "closed, and the fates of all sockets (HTTP status, close code, closed by the server, still open, with "
            + "how long each lived) go to stdout as JSON (and --report).")
public final class HostileCommand implements Callable<Integer> {

    @Option(names = "--url", paramLabel = "URL", description = "ws://HOST:PORT/PATH, HOST a loopback address (default ${DEFAULT-VALUE})")
    private String url = "ws://127.0.0.1:8080/ws";

    @Option(names = "--slow-loris", paramLabel = "N", description = "slots sending a valid request line, then one header byte per --trickle-ms (default 0)")
    private int slowLoris;

    @Option(names = "--half-open", paramLabel = "N", description = "slots that connect and send nothing (default 0)")
    private int halfOpen;

    @Option(names = "--flood", paramLabel = "N", description = "slots that upgrade, then send --flood-rate messages/s (default 0)")
    private int flood;

    @Option(names = "--reconnect", paramLabel = "N", description = "slots that upgrade, close at once, and again after --pause-ms (default 0)")
    private int reconnect;

    @Option(names = "--oversize", paramLabel = "N", description = "slots that upgrade, then send one frame of --oversize-bytes (default 0)")
    private int oversize;

    @Option(names = "--source-addresses", paramLabel = "LIST",
            description = "bind the slots round-robin to these 127.x.y.z addresses (default ${DEFAULT-VALUE})")
    private String sourceAddresses = HostileOptions.DEFAULT_SOURCES;

    @Option(names = "--duration", paramLabel = "SECONDS", description = "run length, 1.." + HostileOptions.MAX_DURATION_SECONDS + " (default ${DEFAULT-VALUE})")
    private int duration = 60;

    @Option(names = "--ramp", paramLabel = "N", description = "first sockets opened per second, all kinds together (default ${DEFAULT-VALUE})")
    private int ramp = 500;

    @Option(names = "--pause-ms", paramLabel = "MS", description = "a slot's wait between the end of a socket and the next (default ${DEFAULT-VALUE})")
    private long pauseMillis = 200;

    @Option(names = "--trickle-ms", paramLabel = "MS", description = "slow-loris: interval between header bytes (default ${DEFAULT-VALUE})")
    private long trickleMillis = 1000;

    @Option(names = "--flood-rate", paramLabel = "N", description = "flood: messages per second per socket (default ${DEFAULT-VALUE})")
    private int floodRate = 200;

    @Option(names = "--oversize-bytes", paramLabel = "N",
            description = "oversize: the frame's payload length; above the server's ws.maxMessageBytes (default ${DEFAULT-VALUE})")
    private int oversizeBytes = 131_072;

    @Option(names = "--echo-timeout-ms", paramLabel = "MS", description = "reconnect: wait this long for the answer to the close frame (default ${DEFAULT-VALUE})")
    private long echoTimeoutMillis = 5_000;

    @Option(names = "--report", paramLabel = "FILE.json", description = "also write the JSON summary to this file")
    private String report;

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "print this help")
    private boolean help;

    @Spec
    private CommandLine.Model.CommandSpec spec;

    private final PrintStream out;

    public HostileCommand() {
        this(System.out);
    }

    HostileCommand(PrintStream out) {
        this.out = out;
    }

    /** The options of {@code args}, checked; null after printing the help. */
    public static HostileOptions parse(String[] args) {
        HostileCommand command = new HostileCommand();
        return Commands.parse(command, args) ? command.options() : null;
    }

    @Override
    public Integer call() {
        HostileOptions options;
        try {
            options = options();
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
        JsonObject summary;
        try {
            summary = HostileRun.run(options);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 3;
        } catch (RuntimeException e) {
            System.err.println("hostile: " + e);
            return 3;
        }
        String json = summary.encodePrettily();
        out.println(json);
        if (options.reportFile() != null) {
            try {
                Files.writeString(Path.of(options.reportFile()), json + "\n", StandardCharsets.UTF_8);
            } catch (IOException e) {
                System.err.println("hostile: cannot write " + options.reportFile() + ": " + e.getMessage());
                return 3;
            }
        }
        return 0;
    }

    HostileOptions options() {
        URI uri;
        try {
            uri = new URI(url.trim());
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("--url is not a valid URL: '" + url + "'");
        }
        Map<Kind, Integer> slots = new EnumMap<>(Kind.class);
        slots.put(Kind.SLOW_LORIS, slowLoris);
        slots.put(Kind.HALF_OPEN, halfOpen);
        slots.put(Kind.FLOOD, flood);
        slots.put(Kind.RECONNECT, reconnect);
        slots.put(Kind.OVERSIZE, oversize);
        return new HostileOptions(uri, slots, LoadTestOptions.addresses(sourceAddresses), duration, ramp, pauseMillis,
                trickleMillis, floodRate, oversizeBytes, echoTimeoutMillis, report == null ? null : report.trim());
    }
}
