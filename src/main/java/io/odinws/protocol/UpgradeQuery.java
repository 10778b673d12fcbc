package io.odinws.protocol;

import io.netty.handler.codec.http.QueryStringDecoder;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The subscribe an upgrade request's query asks for (docs/protocol.md, section 3, subscribe on the upgrade):
 * {@code GET /ws?subscribe=BTC.trade,ETH.trade&snapshot=20}. The connection then starts subscribed, its
 * {@code subscription_ack} right behind the {@code 101}, without a message and its round trip.
 */
public final class UpgradeQuery {

  private static final String SUBSCRIBE = "subscribe";
  private static final String SNAPSHOT = "snapshot";

  private UpgradeQuery() {
  }

  /**
   * @param uri the request's target, path and query
   * @return the subscribe asked for; null when the query names no channel
   * @throws IllegalArgumentException with the answer's wording (no part of the URI: it may hold a token) when the
   *                                  query does not decode or its {@code snapshot} is not a whole number
   */
  public static ClientRequest.Subscribe subscribe(String uri) {
    return subscribe(uri, true);
  }

  /** @param readPlain whether a {@link #plain} query is read without the decoder (false: the decoder reads every query) */
  static ClientRequest.Subscribe subscribe(String uri, boolean readPlain) {
    int q = uri.indexOf('?');
    if (q < 0 || !uri.regionMatches(q + 1, SUBSCRIBE, 0, SUBSCRIBE.length()) && !uri.contains("&" + SUBSCRIBE)) {
      return null; // most upgrades: nothing to decode
    }
    List<String> named;
    List<String> snapshots;
    if (readPlain && plain(uri, q)) {
      named = new ArrayList<>(1);
      snapshots = new ArrayList<>(1);
      parameters(uri, q + 1, named, snapshots);
    } else {
      Map<String, List<String>> params;
      try {
        params = new QueryStringDecoder(uri).parameters();
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("the query does not decode (a bad %-escape)");
      }
      named = params.get(SUBSCRIBE);
      snapshots = params.get(SNAPSHOT);
    }
    if (named == null) {
      return null;
    }
    List<String> channels = new ArrayList<>();
    for (String value : named) {
      for (String channel : value.split(",", -1)) {
        if (!channel.isEmpty()) {
          channels.add(channel);
        }
      }
    }
    if (channels.isEmpty()) {
      return null;
    }
    return new ClientRequest.Subscribe(List.copyOf(channels), null, snapshot(snapshots));
  }

  /**
   * A query with nothing to decode (no escape, no '+'), no ';' or '#' (the decoder's other separators) and short
   * enough to stay under the decoder's 1,024 parameters: the usual one, read by {@link #parameters} without the
   * decoder's map.
   */
  private static boolean plain(String uri, int q) {
    if (uri.length() > 2000 || uri.indexOf('#') >= 0) {
      return false;
    }
    for (int i = q + 1; i < uri.length(); i++) {
      char c = uri.charAt(i);
      if (c == '%' || c == '+' || c == ';' || c == '#') {
        return false;
      }
    }
    return true;
  }

  /**
   * The values of {@code subscribe} and {@code snapshot} in a {@link #plain} query, in order: what
   * {@link QueryStringDecoder#parameters()} gives for them, split the same way (the first '=' of a parameter ends its
   * name, one at a name's start is skipped, a parameter without '=' has an empty value, empty parameters are none).
   */
  private static void parameters(String uri, int from, List<String> named, List<String> snapshots) {
    int nameStart = from;
    int valueStart = -1;
    for (int i = from; i <= uri.length(); i++) {
      char c = i < uri.length() ? uri.charAt(i) : '&';
      if (c == '=') {
        if (nameStart == i) {
          nameStart = i + 1;
        } else if (valueStart < nameStart) {
          valueStart = i + 1;
        }
      } else if (c == '&') {
        if (nameStart < i) {
          int nameEnd = valueStart <= nameStart ? i : valueStart - 1;
          String value = valueStart <= nameStart ? "" : uri.substring(valueStart, i);
          if (named(uri, nameStart, nameEnd, SUBSCRIBE)) {
            named.add(value);
          } else if (named(uri, nameStart, nameEnd, SNAPSHOT)) {
            snapshots.add(value);
          }
        }
        nameStart = i + 1;
      }
    }
  }

  private static boolean named(String uri, int start, int end, String name) {
    return end - start == name.length() && uri.regionMatches(start, name, 0, name.length());
  }

  private static long snapshot(List<String> values) {
    if (values == null || values.isEmpty()) {
      return 0;
    }
    String v = values.get(0);
    if (v.isEmpty() || !v.chars().allMatch(ch -> ch >= '0' && ch <= '9')) {
      throw new IllegalArgumentException("snapshot must be a whole number >= 0");
    }
    return v.length() > 18 ? Long.MAX_VALUE : Long.parseLong(v); // clamped by the snapshot, as a message's is
  }
}
