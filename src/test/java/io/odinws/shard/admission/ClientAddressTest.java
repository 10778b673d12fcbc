package io.odinws.shard.admission;

import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ClientAddressTest {

  private static final TrustedProxies PROXIES =
      TrustedProxies.parse(List.of("10.0.0.0/8", "192.168.1.7", "::1/128", "fd00::/8", "2001:db8:aa::/48"));

  /** Literal parsing without DNS (getByName of a literal never looks anything up). */
  private static InetAddress ip(String literal) {
    try {
      return InetAddress.getByName(literal);
    } catch (UnknownHostException e) {
      throw new AssertionError(e);
    }
  }

  private static InetAddress resolve(String peer, String xff) {
    return ClientAddress.resolve(ip(peer), xff, PROXIES);
  }

  @Test
  void untrustedPeerIgnoresTheHeader() {
    assertEquals(ip("203.0.113.9"), resolve("203.0.113.9", "1.2.3.4"));
    assertEquals(ip("203.0.113.9"), resolve("203.0.113.9", null));
    InetAddress peer = ip("10.1.1.1");
    assertSame(peer, ClientAddress.resolve(peer, "1.2.3.4", TrustedProxies.NONE), "no proxies configured");
  }

  @Test
  void trustedPeerWithoutHeaderIsItself() {
    assertEquals(ip("10.1.1.1"), resolve("10.1.1.1", null));
    assertEquals(ip("10.1.1.1"), resolve("10.1.1.1", ""));
    assertEquals(ip("10.1.1.1"), resolve("10.1.1.1", "   "));
  }

  @Test
  void trustedPeerUsesTheRightmostUntrustedHop() {
    // the client wrote "6.6.6.6" itself; the proxy appended the address it saw, 198.51.100.20
    assertEquals(ip("198.51.100.20"), resolve("10.1.1.1", "6.6.6.6, 198.51.100.20"));
    assertEquals(ip("198.51.100.20"), resolve("10.1.1.1", "198.51.100.20"));
  }

  @Test
  void multipleTrustedHopsAreSkipped() {
    assertEquals(ip("198.51.100.20"),
        resolve("10.1.1.1", "6.6.6.6,198.51.100.20,192.168.1.7, 10.9.9.9,10.2.2.2"));
  }

  @Test
  void allHopsTrustedGivesTheLeftmost() {
    assertEquals(ip("10.3.3.3"), resolve("10.1.1.1", "10.3.3.3, 10.2.2.2"));
  }

  @Test
  void ipv6PeersAndHops() {
    assertEquals(ip("2001:db8:1::5"), resolve("::1", "2001:db8:1::5"));
    assertEquals(ip("2001:db8:1::5"), resolve("fd12::1", "2001:db8:1::5, fd00::2, 2001:db8:aa:1::9"));
    assertEquals(ip("203.0.113.1"), resolve("::1", "203.0.113.1"));
    assertEquals(ip("2001:db8::77"), resolve("2001:db8::77", "1.1.1.1"), "untrusted v6 peer");
  }

  @Test
  void hopsWithPortsAndBrackets() {
    assertEquals(ip("198.51.100.20"), resolve("10.1.1.1", "198.51.100.20:51234"));
    assertEquals(ip("2001:db8:1::5"), resolve("10.1.1.1", "[2001:db8:1::5]:443"));
    assertEquals(ip("2001:db8:1::5"), resolve("10.1.1.1", "[2001:db8:1::5]"));
  }

  @Test
  void garbageStopsTheWalkAtTheLastGoodHop() {
    assertEquals(ip("10.1.1.1"), resolve("10.1.1.1", "garbage"), "rightmost garbage: the peer");
    assertEquals(ip("10.1.1.1"), resolve("10.1.1.1", "1.2.3.4, unknown"));
    assertEquals(ip("10.2.2.2"), resolve("10.1.1.1", "1.2.3.4, evil.example.com, 10.2.2.2"));
    assertEquals(ip("10.2.2.2"), resolve("10.1.1.1", "1.2.3.4,,10.2.2.2"), "empty entry is garbage");
    assertEquals(ip("10.1.1.1"), resolve("10.1.1.1", "1.2.3.4,"));
    for (String bad : List.of("localhost", "256.1.1.1", "1.2.3", "1.2.3.4.5", "0x7f.0.0.1", "1::2::3",
        "fe80::1%eth0", "1.2.3.4:port", "1.2.3.4:123456", "[1.2.3.4]", "[::1", "::1]:80", "1.2.3.4 5.6.7.8",
        "\u0000", "x".repeat(10_000))) {
      assertEquals(ip("10.1.1.1"), resolve("10.1.1.1", bad), bad);
    }
  }

  @Test
  void headerWithSpacesAndTabs() {
    assertEquals(ip("198.51.100.20"), resolve("10.1.1.1", "  6.6.6.6 ,\t198.51.100.20 \t,  10.2.2.2  "));
  }

  @Test
  void unknownPeer() {
    assertNull(ClientAddress.resolve(null, "1.2.3.4", PROXIES));
  }

  @Test
  void cidrMatchingIpv4() {
    TrustedProxies p = TrustedProxies.parse(List.of("10.0.0.0/8", "172.16.0.0/12", "192.168.1.7", "100.64.1.1/24"));
    assertTrue(p.contains(ip("10.0.0.0")));
    assertTrue(p.contains(ip("10.255.255.255")));
    assertFalse(p.contains(ip("11.0.0.0")));
    assertTrue(p.contains(ip("172.31.255.1")));
    assertFalse(p.contains(ip("172.32.0.1")));
    assertTrue(p.contains(ip("192.168.1.7")));
    assertFalse(p.contains(ip("192.168.1.8")));
    assertTrue(p.contains(ip("100.64.1.200")), "host bits beyond the prefix are ignored");
    assertFalse(p.contains(ip("100.64.2.1")));
    assertFalse(p.contains(ip("::a00:1")), "a v6 address never matches a v4 block (::10.0.0.1 is not 10.0.0.1)");
    assertTrue(TrustedProxies.parse(List.of("0.0.0.0/0")).contains(ip("8.8.8.8")));
    assertFalse(TrustedProxies.parse(List.of("0.0.0.0/0")).contains(ip("::2")));
  }

  @Test
  void cidrMatchingIpv6() {
    TrustedProxies p = TrustedProxies.parse(List.of("::1/128", "fd00::/8", "2001:db8:aa::/48", "2001:db8:0:1::/65",
        "::ffff:10.0.0.0/104"));
    assertTrue(p.contains(ip("::1")));
    assertFalse(p.contains(ip("::2")));
    assertTrue(p.contains(ip("fdff:ffff::1")));
    assertFalse(p.contains(ip("fe00::1")));
    assertTrue(p.contains(ip("2001:db8:aa:ffff::1")));
    assertFalse(p.contains(ip("2001:db8:ab::1")));
    assertTrue(p.contains(ip("2001:db8:0:1:7fff::1")), "prefix crossing the 64-bit word boundary");
    assertFalse(p.contains(ip("2001:db8:0:1:8000::1")));
    assertTrue(p.contains(ip("10.20.30.40")), "IPv4-mapped block applies to IPv4 peers");
    assertFalse(p.contains(ip("11.0.0.1")));
    assertFalse(p.contains(ip("127.0.0.1")));
    assertTrue(TrustedProxies.parse(List.of("::/0")).contains(ip("2001:db8::1")));
  }

  @Test
  void badProxyEntriesFailAtStartup() {
    for (String bad : List.of("proxy.internal", "10.0.0.0/33", "::/129", "10.0.0.0/", "10.0.0.0/x", "/8", "",
        "10.0.0.0/8/8", "[::1]", "::ffff:10.0.0.0/64")) {
      assertThrows(IllegalArgumentException.class, () -> TrustedProxies.parse(List.of(bad)), bad);
    }
    assertTrue(TrustedProxies.parse(List.of()).isEmpty());
    assertTrue(TrustedProxies.parse(null).isEmpty());
    assertTrue(TrustedProxies.parse(List.of(" 10.0.0.1 ")).contains(ip("10.0.0.1")));
  }

  @Test
  void parseHopIsStrict() {
    assertEquals(ip("1.2.3.4"), ClientAddress.parseHop("x,1.2.3.4,y", 2, 9));
    assertNull(ClientAddress.parseHop("1.2.3.4", 0, 0));
    assertEquals(ip("::ffff:1.2.3.4"), ClientAddress.parseHop("::ffff:1.2.3.4", 0, 14));
  }
}
