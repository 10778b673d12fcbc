package io.odinws.tools.loadtest;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.function.Consumer;

/**
 * {@code --control-stdin}: the lines a harness writes to the generator's stdin, each handed to {@code onLine} on a
 * daemon thread of its own until the stream ends. The commands themselves are the caller's.
 */
final class StdinCommands {

    /** The one command: the report's latency percentiles start again from the next second. */
    static final String MEASURE = "measure";

    private StdinCommands() {
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
