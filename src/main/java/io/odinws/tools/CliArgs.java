package io.odinws.tools;

import java.util.function.Predicate;

/** Command-line pieces the tools share: {@code --name value} or {@code --name=value}, and bounded numbers. */
public final class CliArgs {

  private CliArgs() {
  }

  /**
   * One option read at {@code args[i]}.
   *
   * @param name  the option's name ({@code --rate})
   * @param value its value, or null when none was given
   * @param last  the index of the last argument it used (i, or i + 1 when the value was the next argument)
   */
  public record Option(String name, String value, int last) {
  }

  /** Reads the option at {@code args[i]}; {@code takesValue} says which names take the next argument as value. */
  public static Option read(String[] args, int i, Predicate<String> takesValue) {
    String arg = args[i];
    int eq = arg.indexOf('=');
    if (arg.startsWith("--") && eq > 0) {
      return new Option(arg.substring(0, eq), arg.substring(eq + 1), i);
    }
    if (i + 1 < args.length && takesValue.test(arg)) {
      return new Option(arg, args[i + 1], i + 1);
    }
    return new Option(arg, null, i);
  }

  /** A whole number in {@code [min, max]}, or an error naming the option and the accepted values. */
  public static long number(String option, String value, long min, long max, String accepted) {
    try {
      long n = Long.parseLong(value.trim());
      if (n >= min && n <= max) {
        return n;
      }
    } catch (NumberFormatException ignored) {
      // reported below, with the accepted values
    }
    throw new IllegalArgumentException(option + " must be " + accepted + ", got '" + value + "'");
  }
}
