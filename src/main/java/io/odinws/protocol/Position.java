package io.odinws.protocol;

/**
 * A client's last position on a channel (PROTOCOL.md section 6): {@code "<partition>:<offset>"},
 * or a bare offset number (partition -1: the server derives it from the channel).
 */
public record Position(int partition, long offset) {

  /** @return the position, or null when {@code value} is neither form */
  public static Position parse(Object value) {
    if (value instanceof Number n) {
      double d = n.doubleValue();
      return d >= -1 && d == Math.floor(d) && d <= Long.MAX_VALUE ? new Position(-1, n.longValue()) : null;
    }
    if (value instanceof String s) {
      int colon = s.indexOf(':');
      try {
        if (colon < 0) {
          long offset = Long.parseLong(s.trim());
          return offset >= 0 ? new Position(-1, offset) : null;
        }
        int partition = Integer.parseInt(s.substring(0, colon));
        long offset = Long.parseLong(s.substring(colon + 1));
        // -1: before the first record (a subscription_ack's position on an empty partition)
        return partition >= 0 && offset >= -1 ? new Position(partition, offset) : null;
      } catch (NumberFormatException e) {
        return null;
      }
    }
    return null;
  }
}
