package io.odinws.envelope;

import java.nio.charset.StandardCharsets;
import java.util.Set;

/**
 * The one place for channel names (PROTOCOL.md section 2): a channel is {@code <token>.<category>},
 * or a wildcard: {@code <token>.*} (every category of a token) or {@code *.<category>} (every token of
 * a category). The category is the text after the last dot and must be configured; the token follows
 * the rules of a Kafka record key ({@link RecordValidator} applies them to keys).
 */
public final class ChannelName {

  /** The longest token, and so the longest Kafka record key, in UTF-8 bytes. */
  public static final int MAX_TOKEN_BYTES = 128;

  private ChannelName() {
  }

  /** A configured category: printable ASCII without dots, wildcards, quotes or backslashes. */
  public static boolean isValidCategory(String category) {
    return category != null && !category.isEmpty()
        && category.chars().allMatch(c -> c > 0x20 && c < 0x7f && c != '.' && c != '*' && c != '"' && c != '\\');
  }

  /** The category of an exact channel, or null for a wildcard or a name without {@code <token>.}. */
  public static String exactCategory(String channel) {
    int dot = channel.lastIndexOf('.');
    return dot > 0 && channel.indexOf('*') < 0 ? channel.substring(dot + 1) : null;
  }

  /** The token of a channel ({@code BTC} of {@code BTC.trade}); the whole name when it has no dot. */
  public static String token(String channel) {
    int dot = channel.lastIndexOf('.');
    return dot > 0 ? channel.substring(0, dot) : channel;
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
    // a char is at most 3 UTF-8 bytes: a short token needs no encoding to know it fits
    if (token.length() > MAX_TOKEN_BYTES / 3 && token.getBytes(StandardCharsets.UTF_8).length > MAX_TOKEN_BYTES) {
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
