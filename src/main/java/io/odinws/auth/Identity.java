package io.odinws.auth;

import java.util.List;

/**
 * Who a connection is, from a verified token: its {@code sub}, until when, and which channels the
 * token permits. Immutable; a refresh replaces it.
 *
 * @param subject         the {@code sub} claim: the owner name private records are matched against
 * @param expiresAtMillis the {@code exp} claim in Unix milliseconds; {@link Long#MAX_VALUE} when the token has none
 * @param channels        the channel patterns of the channels claim ({@code BTC.trade}, {@code BTC.*}, {@code *.trade});
 *                        null when the token has no such claim (every channel permitted)
 */
public record Identity(String subject, long expiresAtMillis, List<String> channels) {

  public Identity {
    channels = channels == null ? null : List.copyOf(channels);
  }

  public boolean expired(long nowMillis) {
    return nowMillis >= expiresAtMillis;
  }

  /**
   * Whether a subscription to {@code channel} (exact or wildcard) is within the token's channels: a
   * pattern covers itself, {@code T.*} covers every channel of token T, {@code *.c} every channel of category c.
   */
  public boolean permits(String channel) {
    if (channels == null) {
      return true;
    }
    int dot = channel.lastIndexOf('.');
    String token = dot > 0 ? channel.substring(0, dot) : channel;
    String category = dot > 0 ? channel.substring(dot + 1) : "";
    for (String p : channels) {
      if (p.equals(channel)) {
        return true;
      }
      int pd = p.lastIndexOf('.');
      if (pd <= 0) {
        continue;
      }
      String pt = p.substring(0, pd);
      String pc = p.substring(pd + 1);
      if (pc.equals("*") && !pt.equals("*") && pt.equals(token) || pt.equals("*") && !pc.equals("*") && pc.equals(category)) {
        return true;
      }
    }
    return false;
  }
}
