package io.odinws.ingest;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

/**
 * Interns channel names per (category, token), so each channel is one String instance (its hash
 * computed once, equality by identity in the shards' maps) with its UTF-8 bytes ready for encoding.
 * Bounded: cleared when it grows past {@link #MAX_ENTRIES}, for a topic flooded with random keys.
 */
final class ChannelNames {

  record Name(String channel, byte[] utf8) {
  }

  static final int MAX_ENTRIES = 200_000;
  private final Map<String, Map<String, Name>> byCategory = new HashMap<>();
  private int size;

  Name of(String category, String token) {
    Map<String, Name> names = byCategory.computeIfAbsent(category, c -> new HashMap<>());
    Name name = names.get(token);
    if (name == null) {
      if (size >= MAX_ENTRIES) {
        byCategory.values().forEach(Map::clear);
        size = 0;
      }
      String channel = token + "." + category;
      name = new Name(channel, channel.getBytes(StandardCharsets.UTF_8));
      names.put(token, name);
      size++;
    }
    return name;
  }
}
