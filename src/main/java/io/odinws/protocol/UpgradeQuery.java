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
    int q = uri.indexOf('?');
    if (q < 0 || !uri.regionMatches(q + 1, SUBSCRIBE, 0, SUBSCRIBE.length()) && !uri.contains("&" + SUBSCRIBE)) {
      return null; // most upgrades: nothing to decode
    }
    Map<String, List<String>> params;
    try {
      params = new QueryStringDecoder(uri).parameters();
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("the query does not decode (a bad %-escape)");
    }
    List<String> named = params.get(SUBSCRIBE);
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
    return new ClientRequest.Subscribe(List.copyOf(channels), null, snapshot(params.get(SNAPSHOT)));
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
