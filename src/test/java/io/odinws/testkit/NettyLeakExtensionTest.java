package io.odinws.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import java.io.InputStream;
import java.util.List;
import java.util.Properties;
import java.util.ServiceLoader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.Extension;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.testkit.engine.EngineExecutionResults;
import org.junit.platform.testkit.engine.EngineTestKit;
import org.junit.platform.testkit.engine.Event;

/**
 * {@link NettyLeakExtension} fails the class that leaked a buffer, and only that one: each fixture below runs in its
 * own engine (so its failure is observed here instead of failing the suite), with the extension autodetected as in
 * the suite.
 */
class NettyLeakExtensionTest {

  @Test
  void aClassThatLeaksABufferFails() {
    List<Event> failed = run(LeaksABuffer.class).containerEvents().failed().list();
    assertEquals(1, failed.size(), "the leaking class fails: " + failed);
    Throwable error = failed.get(0).getPayload(TestExecutionResult.class)
        .flatMap(TestExecutionResult::getThrowable).orElseThrow();
    assertTrue(error instanceof AssertionError, String.valueOf(error));
    assertTrue(error.getMessage().contains("LEAK") && error.getMessage().contains("odin-leak-fixture"),
        "names Netty's report with the buffer's access record: " + error.getMessage());
    assertTrue(error.getMessage().contains("forgetsToRelease"), "names the test that leaked: " + error.getMessage());
  }

  @Test
  void aClassThatReleasesItsBuffersPasses() {
    EngineExecutionResults results = run(ReleasesItsBuffer.class);
    assertEquals(0, results.containerEvents().failed().count());
    assertEquals(1, results.testEvents().succeeded().count());
  }

  @Test
  void isRegisteredForEveryTestOfTheSuite() throws Exception {
    assertTrue(ServiceLoader.load(Extension.class).stream().anyMatch(p -> p.type() == NettyLeakExtension.class),
        "listed in META-INF/services");
    Properties config = new Properties();
    try (InputStream in = getClass().getResourceAsStream("/junit-platform.properties")) {
      assertNotNull(in, "junit-platform.properties on the test class path");
      config.load(in);
    }
    assertEquals("true", config.getProperty("junit.jupiter.extensions.autodetection.enabled"));
  }

  private static EngineExecutionResults run(Class<?> fixture) {
    // every allocation tracked, as in the suite's main execution (the latency one only samples)
    ResourceLeakDetector.Level level = ResourceLeakDetector.getLevel();
    ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.PARANOID);
    try {
      return EngineTestKit.engine("junit-jupiter")
          .configurationParameter("junit.jupiter.extensions.autodetection.enabled", "true")
          .selectors(selectClass(fixture))
          .execute();
    } finally {
      ResourceLeakDetector.setLevel(level);
    }
  }

  /** Not run by the suite itself (a nested class); only through {@link #run}. */
  static class LeaksABuffer {
    @Test
    void forgetsToRelease() {
      ByteBuf b = PooledByteBufAllocator.DEFAULT.directBuffer(16);
      b.touch("odin-leak-fixture");
      b.writeInt(1);
      // dropped unreleased: the collection after this class finds it
    }
  }

  static class ReleasesItsBuffer {
    @Test
    void releases() {
      ByteBuf b = PooledByteBufAllocator.DEFAULT.directBuffer(16);
      b.writeInt(1);
      b.release();
    }
  }
}
