package io.odinws.tools.loadtest;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.function.Consumer;

/**
 * {@code --control-stdin}: the lines a harness writes to the generator's stdin, each handed to {@code onLine} on a
 * daemon thread of its own until the stream ends; {@link #apply} carries out a command in the process that measures.
 */
final class StdinCommands {

    /** The report's latency percentiles start again from the next second. */
    static final String MEASURE = "measure";
    /** The report's latency percentiles end with the current second (the harness's window ends). */
    static final String HOLD = "hold";

    private StdinCommands() {
    }

    /** Applies one command line to {@code stats}; what it did, for the log, or null for an unknown command. */
    static String apply(String line, Stats stats) {
        switch (line) {
            case MEASURE -> {
                stats.measureFromNextSecond();
                return "the latency percentiles count from the next second";
            }
            case HOLD -> {
                stats.holdAfterThisSecond();
                return "the latency percentiles end with this second";
            }
            default -> {
                return null;
            }
        }
    }

    static void read(InputStream in, Consumer<String> onLine) {
        Thread t = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
                for (String line = r.readLine(); line != null; line = r.readLine()) {
                    if (!line.isBlank()) onLine.accept(line.trim());
                }
            } catch (IOException e) {
                // stdin closed under us: no more commands
            }
        }, "loadtest-stdin");
        t.setDaemon(true);
        t.start();
    }
}
