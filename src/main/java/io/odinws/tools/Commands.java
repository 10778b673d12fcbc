package io.odinws.tools;

import io.odinws.cli.Main;
import picocli.CommandLine;
import picocli.CommandLine.ParameterException;

/** Reading a tool's command line into its picocli command object without running it (tests, embedding). */
public final class Commands {

    private Commands() {
    }

    /**
     * Fills {@code command}'s options from {@code args}. Returns false after printing the help to stdout
     * for {@code --help}.
     *
     * @throws IllegalArgumentException with picocli's message, which names the option at fault
     */
    public static boolean parse(Object command, String[] args) {
        CommandLine cl = Main.commandLine(command);
        try {
            cl.parseArgs(args);
        } catch (ParameterException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
        if (cl.isUsageHelpRequested()) {
            cl.usage(System.out);
            return false;
        }
        return true;
    }
}
