package io.odinws.log;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.JsonEncoder;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.encoder.Encoder;
import ch.qos.logback.core.spi.ContextAwareBase;

import java.util.function.Function;

/**
 * The server's logging, configured in code (found by Logback through {@code META-INF/services}), so a
 * start does not parse XML: Logback's XML configuration took about 150 ms of a start of about 1.2 s.
 * From the environment (or a system property of the same name):
 * <ul>
 *   <li>{@code LOG_FORMAT}: {@code json} (default; one JSON object per line) or {@code text};</li>
 *   <li>{@code LOG_LEVEL}: {@code INFO} (default), {@code DEBUG}, {@code WARN} or {@code ERROR};</li>
 *   <li>{@code LOG_WARN_BURST} (5) and {@code LOG_WARN_PERIOD_SECONDS} (60): repeated warnings pass at
 *       most this often per (logger, message pattern), see {@link WarningRateLimiter}; 0 turns it off.</li>
 * </ul>
 * An explicit configuration wins: {@code -Dlogback.configurationFile=...}, or a {@code logback-test.xml}
 * on the class path (the tests').
 */
public final class LogConfigurator extends ContextAwareBase implements Configurator {

  @Override
  public ExecutionStatus configure(LoggerContext context) {
    if (System.getProperty("logback.configurationFile") != null || LogConfigurator.class.getResource("/logback-test.xml") != null) {
      return ExecutionStatus.INVOKE_NEXT_IF_ANY;
    }
    configure(context, name -> {
      String v = System.getProperty(name);
      return v != null ? v : System.getenv(name);
    });
    return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
  }

  /** Applies the configuration read from {@code settings} (variable name to value, null when unset). */
  static void configure(LoggerContext context, Function<String, String> settings) {
    WarningRateLimiter limiter = new WarningRateLimiter();
    limiter.setContext(context);
    limiter.setBurst(intOr(settings.apply("LOG_WARN_BURST"), WarningRateLimiter.DEFAULT_BURST));
    limiter.setPeriodSeconds(intOr(settings.apply("LOG_WARN_PERIOD_SECONDS"), WarningRateLimiter.DEFAULT_PERIOD_SECONDS));
    limiter.start();
    context.addTurboFilter(limiter);

    ConsoleAppender<ILoggingEvent> console = new ConsoleAppender<>();
    console.setContext(context);
    console.setName("console");
    console.setEncoder("text".equalsIgnoreCase(settings.apply("LOG_FORMAT")) ? text(context) : json(context));
    console.start();

    // Kafka's clients and Netty are chatty at INFO; the rate limiter keeps their repeated warnings short.
    for (String quiet : new String[] {"org.apache.kafka", "kafka", "io.netty"}) {
      context.getLogger(quiet).setLevel(Level.WARN);
    }
    ch.qos.logback.classic.Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    root.setLevel(Level.toLevel(settings.apply("LOG_LEVEL"), Level.INFO));
    root.addAppender(console);
  }

  private static Encoder<ILoggingEvent> json(LoggerContext context) {
    JsonEncoder json = new JsonEncoder();
    json.setContext(context);
    json.setWithSequenceNumber(false);
    json.setWithNanoseconds(false);
    json.setWithContext(false);
    json.setWithMDC(false);
    json.setWithKVPList(false);
    json.setWithArguments(false);
    json.setWithMessage(false);
    json.setWithFormattedMessage(true);
    json.start();
    return json;
  }

  private static Encoder<ILoggingEvent> text(LoggerContext context) {
    PatternLayoutEncoder text = new PatternLayoutEncoder();
    text.setContext(context);
    text.setPattern("%d{HH:mm:ss.SSS} %-5level [%thread] %logger{20} %msg%n");
    text.start();
    return text;
  }

  private static int intOr(String value, int otherwise) {
    try {
      return value == null || value.isBlank() ? otherwise : Integer.parseInt(value.strip());
    } catch (NumberFormatException e) {
      return otherwise;
    }
  }
}
