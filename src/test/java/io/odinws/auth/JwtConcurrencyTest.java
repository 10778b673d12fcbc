package io.odinws.auth;

import io.odinws.tools.token.TokenMinter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.KeyPair;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Loops verifying at once while the keys are reloaded: every verdict is the one a single thread gets. */
class JwtConcurrencyTest {

  @TempDir
  Path dir;

  @Test
  void verifiersOnSeveralThreadsWhileTheKeysAreSwapped() throws Exception {
    KeyPair kept = TestKeys.rsa();
    KeyPair rotating = TestKeys.rsa();
    KeyPair never = TestKeys.rsa();
    Path pem = Files.writeString(dir.resolve("keys.pem"), TestKeys.publicPem(kept));
    JwtVerifier v = new JwtVerifier(TestKeys.config("RS256", "", pem.toString(), "", "", ""), Map.of(), () -> JwtVerifierTest.NOW);
    String good = TokenMinter.mint("RS256", kept.getPrivate(), null, JwtVerifierTest.claims());
    String bad = TokenMinter.mint("RS256", never.getPrivate(), null, JwtVerifierTest.claims());

    AtomicBoolean stop = new AtomicBoolean();
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Future<Integer>> loops = new ArrayList<>();
      for (int t = 0; t < 3; t++) {
        loops.add(pool.submit(() -> {
          int n = 0;
          while (!stop.get() || n < 200) {
            assertTrue(v.verify(good) instanceof Verification.Valid, "the kept key's token");
            assertEquals(new Verification.Refused(Refusal.SIGNATURE), v.verify(bad));
            n++;
          }
          return n;
        }));
      }
      Future<Integer> reloader = pool.submit(() -> {
        int swaps = 0;
        for (int i = 1; i <= 40; i++) {
          String text = i % 2 == 0 ? TestKeys.publicPem(kept) : TestKeys.publicPem(rotating, kept);
          Files.writeString(pem, text);
          Files.setLastModifiedTime(pem, FileTime.fromMillis(JwtVerifierTest.NOW + i * 1000L));
          if (v.reloadIfChanged()) {
            swaps++;
          }
        }
        return swaps;
      });
      assertEquals(40, reloader.get(60, TimeUnit.SECONDS));
      stop.set(true);
      for (Future<Integer> loop : loops) {
        assertTrue(loop.get(60, TimeUnit.SECONDS) >= 200);
      }
    } finally {
      stop.set(true);
      pool.shutdownNow();
    }
    assertEquals(1, v.keyCount());
  }
}
