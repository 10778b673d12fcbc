package io.odinws.envelope;

import java.nio.charset.StandardCharsets;
import java.util.Set;

/**
 * Validates a client-supplied channel {@code <token>.<category>} (PROTOCOL.md section 2), or a
 * wildcard: {@code <token>.*} (every category of a token) or {@code *.<category>} (every token of a
 * category). The category is the text after the last dot and must be configured; the token follows
 * the rules of a Kafka record key.
 */
public final class ChannelName {

  public static final int MAX_TOKEN_BYTES = 128;

  private ChannelName() {
  }

  /** @return null when valid, else the reason shown to the client in {@code rejected}. */
  public static String problem(String channel, Set<String> categories) {
    if (channel == null || channel.isEmpty()) {
      return "empty channel";
    }
    int dot = channel.lastIndexOf('.');
    if (dot <= 0 || dot == channel.length() - 1) {
      return "expected <token>.<category>";
    }
    String token = channel.substring(0, dot);
    String category = channel.substring(dot + 1);
    if (token.equals("*") && category.equals("*")) {
      return "'*.*' is not allowed: subscribe to <token>.* or *.<category>";
    }
    if (token.equals("*")) {
      return categories.contains(category) ? null : "unknown category '" + category + "'";
    }
    if (token.indexOf('*') >= 0 || (category.indexOf('*') >= 0 && !category.equals("*"))) {
      return "'*' is only allowed as a whole token (*.trade) or a whole category (BTC.*)";
    }
    if (!category.equals("*") && !categories.contains(category)) {
      return "unknown category '" + category + "'";
    }
    if (token.getBytes(StandardCharsets.UTF_8).length > MAX_TOKEN_BYTES) {
      return "token longer than " + MAX_TOKEN_BYTES + " bytes";
    }
    for (int i = 0; i < token.length(); i++) {
      char c = token.charAt(i);
      if (Character.isWhitespace(c) || Character.isSpaceChar(c) || Character.isISOControl(c)
          || c == '"' || c == '\\' || Character.isSurrogate(c) && !validSurrogatePair(token, i)) {
        return "token contains whitespace, control or quote characters";
      }
      if (Character.isHighSurrogate(c)) {
        i++;
      }
    }
    return null;
  }

  private static boolean validSurrogatePair(String s, int i) {
    return Character.isHighSurrogate(s.charAt(i)) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1));
  }
}
