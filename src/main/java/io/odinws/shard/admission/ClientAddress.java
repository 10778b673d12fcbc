package io.odinws.shard.admission;

import io.netty.util.NetUtil;

import java.net.InetAddress;

/**
 * Which address a connection-rate limit applies to. The TCP peer is the only thing a client cannot forge; an
 * {@code X-Forwarded-For} header is believed only as far as it was written by proxies we trust.
 */
public final class ClientAddress {

  /** Longest hop worth parsing: {@code [ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255]:65535} is 53 chars. */
  private static final int MAX_HOP_CHARS = 64;

  private ClientAddress() {
  }

  /**
   * Resolves the address to rate-limit.
   *
   * <ul>
   *   <li>Peer not a trusted proxy (or no proxies configured, or no header): the peer; the header is ignored,
   *       since anyone can send one.</li>
   *   <li>Peer trusted: walk the header from the right (each proxy appends the address it saw), skipping hops
   *       that are themselves trusted, and return the first untrusted hop: the nearest address no trusted proxy
   *       vouches past. Everything left of it is client-written and worthless. If every hop is trusted, the
   *       leftmost.</li>
   *   <li>A hop that is not an IP literal (garbage, {@code unknown}, a hostname, an empty entry) ends the walk:
   *       the last good hop is used (the peer, if the rightmost entry is garbage). Hostnames are never resolved,
   *       so a header can't make us do DNS.</li>
   * </ul>
   * Hops may be plain literals, {@code v4:port}, {@code [v6]} or {@code [v6]:port}. Several header lines must be
   * joined with {@code ","} by the caller, in order.
   *
   * @param peer          TCP peer; null is returned as null
   * @param xForwardedFor header value, may be null
   * @param trusted       proxies whose header is believed
   */
  public static InetAddress resolve(InetAddress peer, String xForwardedFor, TrustedProxies trusted) {
    if (peer == null || xForwardedFor == null || !trusted.contains(peer)) {
      return peer;
    }
    InetAddress last = peer;
    int end = xForwardedFor.length();
    for (;;) {
      int comma = end == 0 ? -1 : xForwardedFor.lastIndexOf(',', end - 1);
      InetAddress hop = parseHop(xForwardedFor, comma + 1, end);
      if (hop == null) {
        return last;
      }
      if (!trusted.contains(hop)) {
        return hop;
      }
      last = hop;
      if (comma < 0) {
        return last;
      }
      end = comma;
    }
  }

  /** One hop as an IP literal, or null if it is anything else. Visible for tests. */
  static InetAddress parseHop(String s, int from, int to) {
    while (from < to && isBlank(s.charAt(from))) {
      from++;
    }
    while (to > from && isBlank(s.charAt(to - 1))) {
      to--;
    }
    if (from == to || to - from > MAX_HOP_CHARS) {
      return null;
    }
    if (s.charAt(from) == '[') {
      int close = s.indexOf(']', from);
      if (close < 0 || close >= to || !isPortSuffix(s, close + 1, to)) {
        return null;
      }
      String inner = s.substring(from + 1, close);
      return inner.indexOf(':') < 0 ? null : NetUtil.createInetAddressFromIpAddressString(inner);
    }
    int colon = s.indexOf(':', from);
    if (colon >= 0 && colon < to && lastColonBefore(s, from, to) == colon) {
      // exactly one colon: IPv4 with a port
      String host = s.substring(from, colon);
      if (!NetUtil.isValidIpV4Address(host) || !isPortSuffix(s, colon, to)) {
        return null;
      }
      return NetUtil.createInetAddressFromIpAddressString(host);
    }
    return NetUtil.createInetAddressFromIpAddressString(s.substring(from, to));
  }

  private static int lastColonBefore(String s, int from, int to) {
    for (int i = to - 1; i >= from; i--) {
      if (s.charAt(i) == ':') {
        return i;
      }
    }
    return -1;
  }

  /** Empty, or {@code :} followed by 1 to 5 digits. */
  private static boolean isPortSuffix(String s, int from, int to) {
    if (from == to) {
      return true;
    }
    if (s.charAt(from) != ':' || to - from < 2 || to - from > 6) {
      return false;
    }
    for (int i = from + 1; i < to; i++) {
      char c = s.charAt(i);
      if (c < '0' || c > '9') {
        return false;
      }
    }
    return true;
  }

  private static boolean isBlank(char c) {
    return c == ' ' || c == '\t';
  }
}
