package io.odinws.shard.admission;

import io.odinws.config.AdmissionConfig;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AdmissionTest {

  private static final long MS = 1_000_000L;
  private static final long S = 1_000_000_000L;
  private static final InetAddress A = ip("198.51.100.1");
  private static final InetAddress B = ip("198.51.100.2");

  private final AtomicLong clock = new AtomicLong(0);

  private static InetAddress ip(String literal) {
    try {
      return InetAddress.getByName(literal);
    } catch (UnknownHostException e) {
      throw new AssertionError(e);
    }
  }

  private static InetAddress nthIp(int n) {
    return ip("10." + (n >> 16 & 255) + "." + (n >> 8 & 255) + "." + (n & 255));
  }

  private static AdmissionConfig config(int ipBurst, double ipRate, int globalBurst, double globalRate) {
    return new AdmissionConfig(true, ipBurst, ipRate, globalBurst, globalRate, List.of(), List.of(), 75, 90, 10);
  }

  private Admission admission(AdmissionConfig c) {
    return new Admission(c, ResourceGuard.disabled(), clock::get);
  }

  @Test
  void admitIsTheSharedConstant() {
    Admission a = admission(config(50, 20, 4000, 2000));
    Decision d = a.check(A, null, "https://anything.example", 0);
    assertSame(Decision.ADMIT, d);
    assertTrue(d.admitted());
    assertEquals(1, a.admitted());
  }

  @Test
  void oneIpFloodIsCutToItsBurstWhileOthersGetIn() {
    Admission a = admission(config(50, 20, 4000, 2000));
    int admitted = 0;
    for (int i = 0; i < 500; i++) {
      Decision d = a.check(A, null, null, 0);
      if (d.admitted()) {
        admitted++;
      } else {
        assertEquals(429, d.status());
        assertEquals("Rate limit exceeded", d.body());
        assertEquals("ip_rate", d.reason());
        assertTrue(d.retryAfterSeconds() >= 1);
      }
    }
    assertEquals(50, admitted);
    assertEquals(450, a.refused("ip_rate"));
    assertEquals(0, a.refused("global_rate"));
    assertSame(Decision.ADMIT, a.check(B, null, null, 0), "another IP is unaffected");
  }

  @Test
  void oneIpFloodSpreadOverASecondGetsBurstPlusRefill() {
    Admission a = admission(config(50, 20, 4000, 2000));
    int admitted = 0;
    for (int i = 0; i < 500; i++) {
      if (a.check(A, null, null, i * 2 * MS).admitted()) {
        admitted++;
      }
    }
    // last attempt at 998 ms: 19 tokens (one per 50 ms) have refilled by then
    assertEquals(50 + 19, admitted);
  }

  @Test
  void globalLimitAndRetryAfter() {
    Admission a = admission(config(50, 20, 100, 10));
    for (int i = 0; i < 100; i++) {
      assertTrue(a.check(nthIp(i), null, null, 0).admitted());
    }
    Decision d = a.check(nthIp(100), null, null, 0);
    assertEquals(429, d.status());
    assertEquals("global_rate", d.reason());
    assertEquals(1, d.retryAfterSeconds(), "100 ms to the next token, rounded up to 1 s");
    assertTrue(a.check(nthIp(101), null, null, 100 * MS).admitted());

    Admission slow = admission(config(50, 20, 1, 0.25));
    assertTrue(slow.check(A, null, null, 0).admitted());
    assertEquals(4, slow.check(B, null, null, 0).retryAfterSeconds());
    assertEquals(3, slow.check(B, null, null, 1500 * MS).retryAfterSeconds(), "2.5 s left");
  }

  @Test
  void anAbusiveIpDoesNotDrainTheGlobalBucket() {
    Admission a = admission(config(5, 1, 10, 1));
    for (int i = 0; i < 1000; i++) {
      a.check(A, null, null, 0);
    }
    assertEquals(5, a.admitted());
    for (int i = 0; i < 5; i++) {
      assertTrue(a.check(nthIp(i), null, null, 0).admitted(), "global tokens left for others");
    }
    assertEquals("global_rate", a.check(B, null, null, 0).reason());
  }

  @Test
  void aGlobalRefusalDoesNotCostTheIpAToken() {
    Admission a = admission(config(2, 1, 1, 1));
    assertTrue(a.check(A, null, null, 0).admitted());
    for (int i = 0; i < 10; i++) {
      assertEquals("global_rate", a.check(B, null, null, 0).reason());
    }
    assertTrue(a.check(B, null, null, S).admitted());
    assertTrue(a.check(B, null, null, 2 * S).admitted(), "B still had both tokens: refusals were refunded");
  }

  @Test
  void originAllowList() {
    AdmissionConfig c = new AdmissionConfig(true, 50, 20, 4000, 2000, List.of(),
        List.of("https://App.Example.com:8443", " https://x.test/ "), 75, 90, 10);
    Admission a = admission(c);
    assertTrue(a.check(A, null, "https://app.example.com:8443", 0).admitted());
    assertTrue(a.check(A, null, "HTTPS://X.TEST", 0).admitted());
    for (String bad : new String[] {"https://evil.test", "https://app.example.com", "http://x.test", "null", null,
        "https://x.test.evil.test"}) {
      Decision d = a.check(A, null, bad, 0);
      assertEquals(403, d.status(), String.valueOf(bad));
      assertEquals("Origin not allowed", d.body());
      assertEquals("origin", d.reason());
      assertEquals(0, d.retryAfterSeconds());
    }
    assertEquals(6, a.refused("origin"));
    assertEquals(2, a.admitted());
    assertTrue(admission(config(50, 20, 4000, 2000)).check(A, null, null, 0).admitted(), "empty list: any");
  }

  @Test
  void resourceGuardRefusesEvenWithRateLimitsOff() {
    double[] cpu = {90};
    double[] heap = {10};
    ResourceGuard guard = new ResourceGuard(75, 90, 2, () -> cpu[0], () -> heap[0]);
    AdmissionConfig off = new AdmissionConfig(false, 1, 1, 1, 1, List.of(), List.of(), 75, 90, 10);
    Admission a = new Admission(off, guard, clock::get);
    guard.sample();
    assertTrue(a.check(A, null, null, 0).admitted());
    guard.sample();
    Decision d = a.check(A, null, null, 0);
    assertEquals(503, d.status());
    assertEquals("Server overloaded", d.body());
    assertEquals(5, d.retryAfterSeconds());
    assertEquals("cpu", d.reason());
    heap[0] = 95;
    guard.sample();
    assertEquals("heap", a.check(A, null, null, 0).reason());
    cpu[0] = 10;
    heap[0] = 10;
    guard.sample();
    for (int i = 0; i < 100; i++) {
      assertTrue(a.check(A, null, null, 0).admitted(), "rate limits disabled");
    }
    assertEquals(1, a.refused("cpu"));
    assertEquals(1, a.refused("heap"));
    assertEquals(0, a.trackedIps());
  }

  @Test
  void limitsApplyToTheForwardedClientBehindTrustedProxies() {
    AdmissionConfig c = new AdmissionConfig(true, 2, 1, 4000, 2000, List.of("10.0.0.0/8"), List.of(), 75, 90, 10);
    Admission a = admission(c);
    assertTrue(a.check(ip("10.0.0.1"), "203.0.113.7", null, 0).admitted());
    assertTrue(a.check(ip("10.0.0.2"), "6.6.6.6, 203.0.113.7", null, 0).admitted());
    assertEquals("ip_rate", a.check(ip("10.0.0.3"), "203.0.113.7, 10.9.9.9", null, 0).reason(),
        "same client via another proxy");
    assertTrue(a.check(ip("10.0.0.1"), "203.0.113.8", null, 0).admitted(), "another client, same proxy");
    assertTrue(a.check(B, "203.0.113.7", null, 0).admitted(), "untrusted peer: header ignored");
    assertTrue(a.check(null, null, null, 0).admitted(), "unknown peer shares a bucket");
  }

  @Test
  void idleBucketsAreEvicted() {
    Admission a = admission(config(50, 20, 4000, 2000));
    a.check(A, null, null, 0);
    for (int i = 0; i < 50; i++) {
      a.check(B, null, null, 0);
    }
    assertEquals(2, a.trackedIps());
    a.evictIdle(0);
    assertEquals(2, a.trackedIps());
    a.evictIdle(50 * MS);
    assertEquals(1, a.trackedIps(), "A refilled its one token");
    assertTrue(a.check(B, null, null, 50 * MS + 1).admitted(), "B's bucket was kept: one token refilled");
    assertFalse(a.check(B, null, null, 50 * MS + 1).admitted(), "and only one");
    a.evictIdle(10 * S);
    assertEquals(0, a.trackedIps());
    int admitted = 0;
    for (int i = 0; i < 60; i++) {
      admitted += a.check(B, null, null, 10 * S).admitted() ? 1 : 0;
    }
    assertEquals(50, admitted, "a re-created bucket starts full, no more");
    clock.set(20 * S);
    a.evictIdle();
    assertEquals(0, a.trackedIps());
  }

  @Test
  void pastTheCapNewIpsShareBoundedStripes() {
    Admission a = new Admission(config(3, 1, 100_000, 100_000), ResourceGuard.disabled(), clock::get, 10);
    for (int i = 0; i < 10; i++) {
      assertTrue(a.check(nthIp(i), null, null, 0).admitted());
    }
    int admittedNew = 0;
    for (int i = 10; i < 5000; i++) {
      admittedNew += a.check(nthIp(i), null, null, 0).admitted() ? 1 : 0;
    }
    assertEquals(10, a.trackedIps(), "the map does not grow past the cap");
    assertTrue(admittedNew >= 3 && admittedNew <= 3 * Admission.OVERFLOW_STRIPES, "" + admittedNew);
    InetAddress flooder = nthIp(100_000);
    int flooderAdmitted = 0;
    for (int i = 0; i < 100; i++) {
      flooderAdmitted += a.check(flooder, null, null, 0).admitted() ? 1 : 0;
    }
    assertTrue(flooderAdmitted <= 3, "an overflow IP is still rate limited: " + flooderAdmitted);
    a.evictIdle(S * 100);
    assertEquals(0, a.trackedIps());
    assertTrue(a.check(flooder, null, null, S * 100).admitted());
    assertEquals(1, a.trackedIps(), "after eviction new IPs are tracked again");
  }

  @Test
  void reasonsAndCounters() {
    assertEquals(List.of("origin", "cpu", "heap", "global_rate", "ip_rate", "ip_connections"), Admission.REASONS);
    Admission a = admission(config(1, 1, 10, 10));
    for (String r : Admission.REASONS) {
      assertEquals(0, a.refused(r));
    }
    assertThrows(IllegalArgumentException.class, () -> a.refused("nope"));
    a.check(A, null, null, 0);
    Decision first = a.check(A, null, null, 0);
    Decision second = a.check(A, null, null, 0);
    assertSame(first, second, "rate refusals are preallocated");
    assertEquals(2, a.refused("ip_rate"));
    Admission slow = admission(config(1, 1.0 / 120, 10, 10));
    slow.check(A, null, null, 0);
    Decision long1 = slow.check(A, null, null, 0);
    assertEquals(120, long1.retryAfterSeconds());
    assertNotSame(long1, slow.check(A, null, null, 0));
  }

  @Test
  void badConfigFailsFast() {
    assertThrows(IllegalArgumentException.class, () -> admission(
        new AdmissionConfig(true, 50, 20, 4000, 2000, List.of("proxy.local"), List.of(), 75, 90, 10)));
    assertThrows(IllegalArgumentException.class, () -> admission(config(0, 20, 4000, 2000)));
    // disabled limits need no valid bucket settings
    admission(new AdmissionConfig(false, 0, 0, 0, 0, List.of(), List.of(), 75, 90, 10));
  }

  @Test
  void concurrentHammeringNeverExceedsTheBuckets() throws Exception {
    int threads = 8;
    int ips = 4;
    int ipBurst = 50;
    double ipRate = 2000;
    int globalBurst = 100;
    double globalRate = 1000;
    long start = System.nanoTime();
    Admission a = new Admission(config(ipBurst, ipRate, globalBurst, globalRate), ResourceGuard.disabled());
    InetAddress[] addresses = new InetAddress[ips];
    for (int i = 0; i < ips; i++) {
      addresses[i] = nthIp(i);
    }
    long[][] perThreadPerIp = new long[threads][ips];
    CountDownLatch go = new CountDownLatch(1);
    List<Thread> workers = new ArrayList<>();
    long deadline = start + 200 * MS;
    for (int t = 0; t < threads; t++) {
      int id = t;
      Thread w = new Thread(() -> {
        try {
          go.await();
        } catch (InterruptedException e) {
          return;
        }
        int n = 0;
        while (System.nanoTime() - deadline < 0) {
          int ip = (id + n++) % ips;
          if (a.check(addresses[ip], null, null).admitted()) {
            perThreadPerIp[id][ip]++;
          }
        }
      });
      workers.add(w);
      w.start();
    }
    go.countDown();
    for (Thread w : workers) {
      w.join();
    }
    double elapsedSeconds = (System.nanoTime() - start) / 1e9;
    long total = 0;
    for (int ip = 0; ip < ips; ip++) {
      long perIp = 0;
      for (int t = 0; t < threads; t++) {
        perIp += perThreadPerIp[t][ip];
      }
      assertTrue(perIp <= ipBurst + ipRate * elapsedSeconds, "ip " + ip + ": " + perIp);
      total += perIp;
    }
    assertEquals(total, a.admitted());
    assertTrue(total >= globalBurst, "the burst at least was used: " + total);
    assertTrue(total <= globalBurst + globalRate * elapsedSeconds,
        total + " admitted in " + elapsedSeconds + " s");
    assertTrue(a.refused("global_rate") > 0);
  }

  @Test
  void retryAfterIsWholeSecondsRoundedUpAtLeastOne() {
    assertEquals(1, Admission.retryAfterSeconds(0));
    assertEquals(1, Admission.retryAfterSeconds(1));
    assertEquals(1, Admission.retryAfterSeconds(50_000_000L));
    assertEquals(1, Admission.retryAfterSeconds(1_000_000_000L));
    assertEquals(2, Admission.retryAfterSeconds(1_000_000_000L + 1));
    assertEquals(60, Admission.retryAfterSeconds(60_000_000_000L));
    assertEquals(61, Admission.retryAfterSeconds(60_000_000_000L + 1));
    assertEquals(3600, Admission.retryAfterSeconds(3_600_000_000_000L));
  }
}
