package io.odinws.testkit;

import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * One embedded Kafka broker per test JVM, started lazily by the first test class that uses this extension and closed
 * after the last test of the run (it lives in the root extension store).
 *
 * <pre>{@code
 * @ExtendWith(KafkaBrokerExtension.class)
 * class MyTest {
 *   @Test void t(EmbeddedKafka kafka) { ... kafka.bootstrap() ... }
 * }
 * }</pre>
 *
 * <p>Code without an {@link ExtensionContext} (helpers, static initialisers) can use {@link #broker()}. A broker
 * started that way before any extension callback is adopted into the root store by the next callback; until then
 * only its JVM shutdown hook closes it.
 */
public final class KafkaBrokerExtension implements BeforeAllCallback, ParameterResolver {

  private static final ExtensionContext.Namespace NAMESPACE =
      ExtensionContext.Namespace.create(KafkaBrokerExtension.class);
  private static final String KEY = "embedded-kafka";

  private static final Object LOCK = new Object();
  /** Guarded by LOCK. */
  private static EmbeddedKafka shared;

  @Override
  public void beforeAll(ExtensionContext context) {
    broker(context);
  }

  @Override
  public boolean supportsParameter(ParameterContext parameterContext, ExtensionContext extensionContext) {
    return parameterContext.getParameter().getType() == EmbeddedKafka.class;
  }

  @Override
  public Object resolveParameter(ParameterContext parameterContext, ExtensionContext extensionContext)
      throws ParameterResolutionException {
    try {
      return broker(extensionContext);
    } catch (RuntimeException e) {
      throw new ParameterResolutionException("embedded Kafka broker did not start", e);
    }
  }

  /** The shared broker, started if needed, and registered in the root store so it closes after the last test. */
  public static EmbeddedKafka broker(ExtensionContext context) {
    ExtensionContext.Store store = context.getRoot().getStore(NAMESPACE);
    synchronized (LOCK) {
      Holder holder = store.getOrComputeIfAbsent(KEY, k -> new Holder(broker()), Holder.class);
      return holder.kafka;
    }
  }

  /** The shared broker, started if needed. */
  public static EmbeddedKafka broker() {
    synchronized (LOCK) {
      if (shared == null) {
        shared = EmbeddedKafka.start();
      }
      return shared;
    }
  }

  /** Root-store value: JUnit calls {@link #close()} when the engine finishes, i.e. after the last test class. */
  private static final class Holder implements ExtensionContext.Store.CloseableResource {
    final EmbeddedKafka kafka;

    Holder(EmbeddedKafka kafka) {
      this.kafka = kafka;
    }

    @Override
    public void close() {
      synchronized (LOCK) {
        if (shared == kafka) {
          shared = null;
        }
      }
      kafka.close();
    }
  }
}
