package io.odinws.shard.admission;

import io.netty.util.NetUtil;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;

/**
 * The set of proxy addresses whose {@code X-Forwarded-For} is believed ({@code AdmissionConfig.trustedProxies()}):
 * exact IPs and CIDR blocks, IPv4 and IPv6. Parsed once at startup; immutable, so lookups from any thread need
 * no synchronisation. Entries are IP literals only (parsed with Netty's strict literal parser, never DNS), and a
 * bad entry fails at startup rather than silently trusting or distrusting a proxy.
 */
public final class TrustedProxies {

  public static final TrustedProxies NONE = new TrustedProxies(new int[0], new int[0], new long[0], new long[0]);

  // IPv4 ranges: network[i] and mask[i]. IPv6 ranges: 4 longs each (network hi, network lo, mask hi, mask lo).
  private final int[] v4Net;
  private final int[] v4Mask;
  private final long[] v6Net;
  private final long[] v6Mask;

  private TrustedProxies(int[] v4Net, int[] v4Mask, long[] v6Net, long[] v6Mask) {
    this.v4Net = v4Net;
    this.v4Mask = v4Mask;
    this.v6Net = v6Net;
    this.v6Mask = v6Mask;
  }

  /**
   * Parses entries like {@code 10.1.2.3}, {@code 10.0.0.0/8}, {@code ::1}, {@code fd00::/8}. Host bits beyond
   * the prefix are ignored ({@code 10.1.2.3/8} means {@code 10.0.0.0/8}). An IPv4-mapped IPv6 block with a
   * prefix of at least 96 (e.g. {@code ::ffff:10.0.0.0/104}) is treated as the IPv4 block, because Java reports
   * mapped peers as {@link Inet4Address}.
   *
   * @throws IllegalArgumentException on an entry that is not an IP literal or CIDR block
   */
  public static TrustedProxies parse(List<String> entries) {
    if (entries == null || entries.isEmpty()) {
      return NONE;
    }
    List<int[]> v4 = new ArrayList<>();
    List<long[]> v6 = new ArrayList<>();
    for (String raw : entries) {
      String entry = raw == null ? "" : raw.trim();
      int slash = entry.indexOf('/');
      String host = slash < 0 ? entry : entry.substring(0, slash);
      InetAddress addr = NetUtil.createInetAddressFromIpAddressString(host);
      if (addr == null || host.startsWith("[")) {
        throw new IllegalArgumentException("trusted proxy is not an IP literal or CIDR block: '" + raw + "'");
      }
      int maxBits = addr instanceof Inet4Address ? 32 : 128;
      boolean mapped = addr instanceof Inet4Address && host.indexOf(':') >= 0;
      int prefix = slash < 0 ? (mapped ? 128 : maxBits) : parsePrefix(entry.substring(slash + 1), raw);
      if (mapped) {
        if (prefix < 96 || prefix > 128) {
          throw new IllegalArgumentException("IPv4-mapped block needs a prefix of 96..128: '" + raw + "'");
        }
        prefix -= 96;
      }
      if (prefix > maxBits) {
        throw new IllegalArgumentException("prefix too long: '" + raw + "'");
      }
      byte[] b = addr.getAddress();
      if (b.length == 4) {
        int mask = prefix == 0 ? 0 : -1 << (32 - prefix);
        v4.add(new int[] {toInt(b, 0) & mask, mask});
      } else {
        long maskHi = prefixMask(prefix);
        long maskLo = prefixMask(prefix - 64);
        v6.add(new long[] {toLong(b, 0) & maskHi, toLong(b, 8) & maskLo, maskHi, maskLo});
      }
    }
    int[] n4 = new int[v4.size()];
    int[] m4 = new int[v4.size()];
    for (int i = 0; i < n4.length; i++) {
      n4[i] = v4.get(i)[0];
      m4[i] = v4.get(i)[1];
    }
    long[] n6 = new long[v6.size() * 2];
    long[] m6 = new long[v6.size() * 2];
    for (int i = 0; i < v6.size(); i++) {
      long[] r = v6.get(i);
      n6[2 * i] = r[0];
      n6[2 * i + 1] = r[1];
      m6[2 * i] = r[2];
      m6[2 * i + 1] = r[3];
    }
    return new TrustedProxies(n4, m4, n6, m6);
  }

  public boolean isEmpty() {
    return v4Net.length == 0 && v6Net.length == 0;
  }

  /** Whether {@code addr} is inside any configured block; false for null. */
  public boolean contains(InetAddress addr) {
    if (addr == null || isEmpty()) {
      return false;
    }
    byte[] b = addr.getAddress();
    if (b.length == 4) {
      int ip = toInt(b, 0);
      for (int i = 0; i < v4Net.length; i++) {
        if ((ip & v4Mask[i]) == v4Net[i]) {
          return true;
        }
      }
      return false;
    }
    long hi = toLong(b, 0);
    long lo = toLong(b, 8);
    for (int i = 0; i < v6Net.length; i += 2) {
      if ((hi & v6Mask[i]) == v6Net[i] && (lo & v6Mask[i + 1]) == v6Net[i + 1]) {
        return true;
      }
    }
    return false;
  }

  private static int parsePrefix(String s, String raw) {
    if (s.isEmpty() || s.length() > 3) {
      throw new IllegalArgumentException("bad CIDR prefix: '" + raw + "'");
    }
    for (int i = 0; i < s.length(); i++) {
      if (s.charAt(i) < '0' || s.charAt(i) > '9') {
        throw new IllegalArgumentException("bad CIDR prefix: '" + raw + "'");
      }
    }
    return Integer.parseInt(s);
  }

  /** Mask with the top {@code bits} bits of a 64-bit word set (bits clamped to 0..64). */
  private static long prefixMask(int bits) {
    if (bits <= 0) {
      return 0L;
    }
    return bits >= 64 ? -1L : -1L << (64 - bits);
  }

  private static int toInt(byte[] b, int off) {
    return (b[off] & 0xff) << 24 | (b[off + 1] & 0xff) << 16 | (b[off + 2] & 0xff) << 8 | (b[off + 3] & 0xff);
  }

  private static long toLong(byte[] b, int off) {
    return (toInt(b, off) & 0xffffffffL) << 32 | (toInt(b, off + 4) & 0xffffffffL);
  }
}
