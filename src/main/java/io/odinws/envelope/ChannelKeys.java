package io.odinws.envelope;

/**
 * The three subscription keys a message matches: its channel ({@code BTC.trade}), its token
 * wildcard ({@code BTC.*}) and its category wildcard ({@code *.trade}). Built once per channel by
 * the ingest worker and shared by every message of that channel, so shards look subscribers up
 * without building strings.
 */
public record ChannelKeys(String channel, String tokenWildcard, String categoryWildcard, byte[] channelUtf8) {

  public static ChannelKeys of(String token, String category) {
    String channel = token + "." + category;
    return new ChannelKeys(channel, token + ".*", "*." + category, channel.getBytes(java.nio.charset.StandardCharsets.UTF_8));
  }
}
