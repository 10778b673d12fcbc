package io.odinws.log;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.JsonEncoder;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.OutputStreamAppender;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.ServiceLoader;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The server's logging as LogConfigurator sets it up from the environment (logback.xml's former job). */
class LogConfiguratorTest {

  @Test
  void jsonAtInfoWithTheWarningLimiterByDefault() {
    LoggerContext context = configured(Map.of());
    assertInstanceOf(JsonEncoder.class, consoleEncoder(context));
    assertEquals(Level.INFO, context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).getLevel());
    assertEquals(Level.WARN, context.getLogger("org.apache.kafka").getLevel());
    assertEquals(Level.WARN, context.getLogger("io.netty").getLevel());
    assertEquals(1, context.getTurboFilterList().size());
    WarningRateLimiter limiter = (WarningRateLimiter) context.getTurboFilterList().get(0);
    assertTrue(limiter.isStarted());
    assertEquals(5, limiter.getBurst());
    assertEquals(60, limiter.getPeriodSeconds());
    context.stop();
  }

  @Test
  void theEnvironmentChoosesFormatLevelAndLimits() {
    LoggerContext context = configured(Map.of("LOG_FORMAT", "text", "LOG_LEVEL", "debug", "LOG_WARN_BURST", "0",
        "LOG_WARN_PERIOD_SECONDS", "10"));
    assertInstanceOf(PatternLayoutEncoder.class, consoleEncoder(context));
    assertEquals(Level.DEBUG, context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).getLevel());
    WarningRateLimiter limiter = (WarningRateLimiter) context.getTurboFilterList().get(0);
    assertEquals(0, limiter.getBurst());
    assertEquals(10, limiter.getPeriodSeconds());
    context.stop();
  }

  @Test
  void foundByLogbackAndStepsAsideForAnExplicitConfiguration() {
    assertTrue(ServiceLoader.load(Configurator.class).stream().anyMatch(p -> p.type() == LogConfigurator.class),
        "META-INF/services registers LogConfigurator");
    // the test class path has logback-test.xml: the configurator leaves it to Logback's XML configuration
    assertEquals(Configurator.ExecutionStatus.INVOKE_NEXT_IF_ANY, new LogConfigurator().configure(new LoggerContext()));
  }

  private static LoggerContext configured(Map<String, String> env) {
    LoggerContext context = new LoggerContext();
    LogConfigurator.configure(context, env::get);
    return context;
  }

  private static Object consoleEncoder(LoggerContext context) {
    var appender = (OutputStreamAppender<ILoggingEvent>) context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).getAppender("console");
    return appender.getEncoder();
  }
}
