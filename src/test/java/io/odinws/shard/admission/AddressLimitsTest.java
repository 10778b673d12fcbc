package io.odinws.shard.admission;

import io.odinws.config.AdmissionConfig;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Per-address socket counts ({@code admission.ipMaxConnections}) and the loopback exemption. */
class AddressLimitsTest {

  private static final InetAddress A = ip("198.51.100.1");
  private static final InetAddress B = ip("198.51.100.2");
  private static final InetAddress PROXY = ip("127.0.0.1");

  private static InetAddress ip(String literal) {
    try {
      return InetAddress.getByName(literal);
    } catch (UnknownHostException e) {
      throw new AssertionError(e);
    }
  }

  private static Admission admission(boolean rateLimits, int ipBurst, int maxConnections, boolean exemptLoopback, List<String> proxies) {
    return admission(rateLimits, ipBurst, maxConnections, exemptLoopback, proxies, 0);
  }

  private static Admission admission(boolean rateLimits, int ipBurst, int maxConnections, boolean exemptLoopback, List<String> proxies,
                                     int rateRefusalDelayMs) {
    AdmissionConfig c = new AdmissionConfig(rateLimits, ipBurst, 0.001, 100_000, 100_000, proxies, List.of(), 75, 90,
        maxConnections, exemptLoopback, 10, rateRefusalDelayMs);
    return new Admission(c, ResourceGuard.disabled(), () -> 0L);
  }

  @Test
  void anAddressHoldsAtMostItsLimitAndEachReleaseFreesOne() {
    Admission a = admission(false, 1, 3, true, List.of());
    List<AddressHold> holds = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      AddressHold h = new AddressHold();
      assertSame(Decision.ADMIT, a.accept(A, h));
      assertTrue(h.holds());
      holds.add(h);
    }
    AddressHold fourth = new AddressHold();
    Decision refused = a.accept(A, fourth);
    assertEquals(429, refused.status());
    assertEquals("ip_connections", refused.reason());
    assertTrue(refused.retryAfterSeconds() > 0);
    assertFalse(fourth.holds());
    assertEquals(1, a.refused("ip_connections"));
    assertEquals(3, a.connections(A));
    assertTrue(a.accept(B, new AddressHold()).admitted(), "another address has its own count");

    holds.get(0).release();
    holds.get(0).release(); // a second release (another close path) gives nothing back
    assertEquals(2, a.connections(A));
    assertTrue(a.accept(A, new AddressHold()).admitted());
    assertFalse(a.accept(A, new AddressHold()).admitted());
  }

  @Test
  void anAddressLeavesTheMapWithItsLastSocket() {
    Admission a = admission(false, 1, 200, true, List.of());
    AddressHold h = new AddressHold();
    a.accept(A, h);
    assertEquals(1, a.addressesHolding());
    h.release();
    assertEquals(0, a.addressesHolding());
    assertEquals(0, a.connections(A));
  }

  @Test
  void zeroMeansNoLimitAndCountsNothing() {
    Admission a = admission(false, 1, 0, false, List.of());
    for (int i = 0; i < 1000; i++) {
      assertTrue(a.accept(A, new AddressHold()).admitted());
    }
    assertEquals(0, a.addressesHolding());
  }

  @Test
  void loopbackIsExemptFromPerAddressLimitsButNotFromTheGlobalRate() {
    AdmissionConfig c = new AdmissionConfig(true, 1, 0.001, 3, 0.001, List.of(), List.of(), 75, 90, 1, true, 10, 0);
    Admission a = new Admission(c, ResourceGuard.disabled(), () -> 0L);
    InetAddress v6 = ip("::1");
    for (InetAddress loop : List.of(ip("127.0.0.1"), ip("127.8.9.10"), v6)) {
      AddressHold h1 = new AddressHold();
      AddressHold h2 = new AddressHold();
      assertTrue(a.accept(loop, h1).admitted());
      assertTrue(a.accept(loop, h2).admitted());
      assertFalse(h1.holds(), "loopback is not counted");
      assertTrue(a.check(loop, null, null, 0, h1).admitted(), "per-IP burst 1 does not apply to loopback");
    }
    assertEquals("global_rate", a.check(ip("127.0.0.1"), null, null, 0, new AddressHold()).reason(),
        "the global bucket (burst 3) still applies");
  }

  @Test
  void withoutTheExemptionLoopbackAddressesAreLimitedEachOnItsOwn() {
    Admission a = admission(false, 1, 2, false, List.of());
    for (String s : List.of("127.0.0.2", "127.0.0.3")) {
      assertTrue(a.accept(ip(s), new AddressHold()).admitted());
      assertTrue(a.accept(ip(s), new AddressHold()).admitted());
      assertEquals("ip_connections", a.accept(ip(s), new AddressHold()).reason());
    }
  }

  @Test
  void aSpoofedForwardedForCannotBorrowTheLoopbackExemption() {
    // No trusted proxies: X-Forwarded-For is ignored, so a remote peer naming 127.0.0.1 stays itself.
    Admission a = admission(true, 1, 1, true, List.of());
    AddressHold h = new AddressHold();
    assertTrue(a.accept(A, h).admitted());
    assertTrue(h.holds(), "counted against the peer at accept, before any header is read");
    assertEquals("ip_connections", a.accept(A, new AddressHold()).reason());
    assertTrue(a.check(A, "127.0.0.1", null, 0, h).admitted());
    AddressHold other = new AddressHold();
    assertTrue(a.accept(B, other).admitted());
    assertTrue(a.check(B, "127.0.0.1", null, 0, other).admitted());
    assertEquals("ip_rate", a.check(B, "127.0.0.1", null, 0).reason(),
        "the spoofed header does not skip the peer's rate limit");
  }

  @Test
  void behindATrustedLoopbackProxyTheRemoteClientIsCountedAndNotExempt() {
    Admission a = admission(false, 1, 2, true, List.of("127.0.0.1/32"));
    List<AddressHold> holds = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      AddressHold h = new AddressHold();
      assertTrue(a.accept(PROXY, h).admitted(), "the proxy's own sockets are not counted at accept");
      assertFalse(h.holds());
      holds.add(h);
    }
    assertTrue(a.check(PROXY, "203.0.113.9", null, 0, holds.get(0)).admitted());
    assertTrue(a.check(PROXY, "203.0.113.9", null, 0, holds.get(1)).admitted());
    Decision third = a.check(PROXY, "203.0.113.9", null, 0, holds.get(2));
    assertEquals("ip_connections", third.reason(), "the remote client gets no loopback exemption from its proxy");
    assertFalse(holds.get(2).holds());
    assertEquals(2, a.connections(ip("203.0.113.9")));
    assertEquals(0, a.connections(PROXY));
    assertTrue(a.check(PROXY, "203.0.113.10", null, 0, new AddressHold()).admitted(), "another client behind the same proxy");
    holds.get(0).release();
    assertEquals(1, a.connections(ip("203.0.113.9")));
  }

  @Test
  void aCountTakenAtTheUpgradeIsGivenBackWhenARateLimitRefuses() {
    Admission a = admission(true, 1, 5, false, List.of("10.0.0.0/8"));
    InetAddress proxy = ip("10.1.1.1");
    assertTrue(a.check(proxy, "203.0.113.9", null, 0, new AddressHold()).admitted());
    AddressHold h = new AddressHold();
    assertEquals("ip_rate", a.check(proxy, "203.0.113.9", null, 0, h).reason());
    assertFalse(h.holds());
    assertEquals(1, a.connections(ip("203.0.113.9")));
  }

  @Test
  void onlyARateRefusalOfACountedSocketWaits() {
    Admission a = admission(true, 1, 5, false, List.of("10.0.0.0/8"), 700);
    // Direct client: counted at accept, so its rate refusal waits (and keeps its count while it waits).
    InetAddress client = ip("192.0.2.7");
    AddressHold first = new AddressHold();
    a.accept(client, first);
    assertTrue(a.check(client, null, null, 0, first).admitted());
    AddressHold second = new AddressHold();
    a.accept(client, second);
    Decision refused = a.check(client, null, null, 0, second);
    assertEquals("ip_rate", refused.reason());
    assertEquals(700, a.refusalDelayMillis(refused, second));
    assertEquals(2, a.connections(client));
    // Behind a trusted proxy: not counted, answered at once.
    InetAddress proxy = ip("10.1.1.1");
    assertTrue(a.check(proxy, "203.0.113.9", null, 0, new AddressHold()).admitted());
    AddressHold proxied = new AddressHold();
    Decision viaProxy = a.check(proxy, "203.0.113.9", null, 0, proxied);
    assertEquals("ip_rate", viaProxy.reason());
    assertEquals(0, a.refusalDelayMillis(viaProxy, proxied));
    // Other refusals are answered at once.
    assertEquals(0, a.refusalDelayMillis(Admission.CONNECTIONS_REFUSED, second));
    assertEquals(0, admission(true, 1, 5, false, List.of(), 0).refusalDelayMillis(refused, second));
  }

  @Test
  void countsStayExactUnderConcurrentAcceptsAndReleases() throws Exception {
    int limit = 50;
    Admission a = admission(false, 1, limit, false, List.of());
    int threads = 4;
    AtomicInteger over = new AtomicInteger();
    CountDownLatch start = new CountDownLatch(1);
    // Every thread holds its round's sockets until all have tried theirs: 4 x 20 wanted at once, so some must be
    // refused whatever the scheduling (without it, a thread could run its round alone on a busy machine).
    CyclicBarrier roundHeld = new CyclicBarrier(threads);
    List<Thread> workers = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      Thread w = new Thread(() -> {
        try {
          start.await();
          for (int round = 0; round < 2000; round++) {
            List<AddressHold> mine = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
              AddressHold h = new AddressHold();
              if (a.accept(A, h).admitted()) {
                mine.add(h);
              }
            }
            if (a.connections(A) > limit) {
              over.incrementAndGet();
            }
            roundHeld.await(30, TimeUnit.SECONDS); // breaks the barrier for all rather than hang if a thread is lost
            mine.forEach(AddressHold::release);
          }
        } catch (InterruptedException | BrokenBarrierException | TimeoutException e) {
          throw new AssertionError(e);
        }
      });
      w.start();
      workers.add(w);
    }
    start.countDown();
    for (Thread w : workers) {
      w.join();
    }
    assertEquals(0, over.get(), "never more than the limit held");
    assertEquals(0, a.connections(A));
    assertEquals(0, a.addressesHolding(), "no counter left behind");
    assertTrue(a.refused("ip_connections") > 0, "4 x 20 wanted, 50 allowed: some were refused");
  }
}
