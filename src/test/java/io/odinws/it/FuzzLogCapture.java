package io.odinws.it;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.AppenderBase;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Records WARN and ERROR events of the server and of Netty (connection errors, leak reports) while a fuzz test runs,
 * so a failure can name the exception and, through the client's port in {@code remote=}, the input that caused it.
 * The events still reach the normal appenders.
 */
final class FuzzLogCapture extends AppenderBase<ILoggingEvent> implements AutoCloseable {

  /** One captured event; {@code remotePort} is -1 when the message names no remote address. */
  record Event(String logger, String level, String message, String throwable, int remotePort) {
    @Override
    public String toString() {
      return level + " " + logger + " " + message + (throwable == null ? "" : "\n" + throwable);
    }
  }

  private static final Pattern REMOTE = Pattern.compile("remote=/?[^ :]*:(\\d+)");

  final List<Event> events = new CopyOnWriteArrayList<>();
  private final List<Logger> loggers = new ArrayList<>();

  private FuzzLogCapture() {
  }

  static FuzzLogCapture attach(String... loggerNames) {
    FuzzLogCapture capture = new FuzzLogCapture();
    Logger any = (Logger) LoggerFactory.getLogger(loggerNames[0]);
    capture.setContext(any.getLoggerContext());
    capture.setName("fuzz-capture");
    capture.start();
    for (String name : loggerNames) {
      Logger logger = (Logger) LoggerFactory.getLogger(name);
      logger.addAppender(capture);
      capture.loggers.add(logger);
    }
    return capture;
  }

  @Override
  protected void append(ILoggingEvent e) {
    if (!e.getLevel().isGreaterOrEqual(Level.WARN)) {
      return;
    }
    String message = e.getFormattedMessage();
    Matcher m = REMOTE.matcher(message);
    IThrowableProxy t = e.getThrowableProxy();
    String trace = null;
    if (t != null) {
      trace = ThrowableProxyUtil.asString(t);
      String[] lines = trace.split("\n");
      if (lines.length > 14) {
        trace = String.join("\n", java.util.Arrays.copyOf(lines, 14)) + "\n\t...";
      }
    }
    events.add(new Event(e.getLoggerName(), e.getLevel().toString(), message, trace, m.find() ? Integer.parseInt(m.group(1)) : -1));
  }

  List<Event> matching(String text) {
    return events.stream().filter(e -> e.message().contains(text)).toList();
  }

  @Override
  public void close() {
    loggers.forEach(l -> l.detachAppender(this));
    stop();
  }
}
