package io.odinws.tools.loadtest;

import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * The stand-alone nchan publisher's command line ({@link NchanPublisher#main}): publishes as the options say,
 * prints the summary; exit status 0, 1 if a POST failed, 2 bad usage.
 */
@Command(name = "nchan publisher", sortOptions = false,
        customSynopsis = "java -cp odin-ws-tools.jar io.odinws.tools.loadtest.NchanPublisher [OPTIONS]",
        description = "POSTs odin-ws style envelopes to nchan's publisher endpoint (loopback only), open loop, pipelined on "
                + "one keep-alive connection, and prints a JSON summary to stdout at the end.")
final class NchanPublishCommand implements Callable<Integer> {

    @Option(names = "--url", paramLabel = "URL", description = "http://HOST:PORT[/PREFIX]; messages go to PREFIX/<channel>, "
            + "PREFIX default /pub (default ${DEFAULT-VALUE})")
    private URI url = URI.create("http://127.0.0.1:8080");

    @Option(names = "--channels", paramLabel = "CHANNEL", split = "\\s*,\\s*", splitSynopsisLabel = ",",
            description = "channels, published to round-robin (default BTC.trade)")
    private List<String> channels = List.of("BTC.trade");

    @Option(names = "--rate", paramLabel = "N", description = "messages per second, all channels together, 1.."
            + NchanOptions.MAX_RATE + " (default ${DEFAULT-VALUE})")
    private int rate = 10;

    @Option(names = "--count", paramLabel = "N", description = "stop after N messages; 0 = only --duration ends it (default ${DEFAULT-VALUE})")
    private long count;

    @Option(names = "--duration", paramLabel = "SECONDS", description = "stop after this long, 1.."
            + LoadTestOptions.MAX_DURATION_SECONDS + " (default ${DEFAULT-VALUE})")
    private int duration = 60;

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "print this help")
    private boolean help;

    @Spec
    private CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws InterruptedException {
        try {
            if (duration < 1 || duration > LoadTestOptions.MAX_DURATION_SECONDS) {
                throw new IllegalArgumentException("--duration must be 1.." + LoadTestOptions.MAX_DURATION_SECONDS);
            }
            for (String c : channels) {
                if (!NchanOptions.CHANNEL_ID.matcher(c).matches()) throw new IllegalArgumentException("--channels: bad channel id '" + c + "'");
            }
            new NchanOptions(url, rate, count, 0); // validates
            LoadTestOptions.requireLoopback("--url", url.getHost());
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
        NchanPublisher p = new NchanPublisher(url, channels, rate, count);
        CountDownLatch done = new CountDownLatch(1);
        Thread hook = new Thread(() -> { // SIGTERM / Ctrl-C: stop publishing, still print the summary
            p.stop();
            try {
                done.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "nchan-publisher-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        p.run(System.nanoTime() + TimeUnit.SECONDS.toNanos(duration));
        JsonObject s = p.summary();
        spec.commandLine().getOut().println(s.encodePrettily());
        spec.commandLine().getOut().flush();
        done.countDown();
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            // a signal ended the run; the JVM is already exiting
        }
        return s.getLong("failed") > 0 ? 1 : 0;
    }
}
