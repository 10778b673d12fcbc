package io.odinws.envelope;


import java.util.HashMap;
import java.util.Map;

/**
 * Interns channel keys per (category, token), so each channel is one {@link ChannelKeys} instance
 * (hashes computed once) with its UTF-8 bytes ready for encoding.
 * Bounded: cleared when it grows past {@link #MAX_ENTRIES}, for a topic flooded with random keys.
 */
public final class ChannelNames {

  public static final int MAX_ENTRIES = 200_000;
  private final Map<String, Map<String, ChannelKeys>> byCategory = new HashMap<>();
  private int size;

  public ChannelKeys of(String category, String token) {
    Map<String, ChannelKeys> names = byCategory.computeIfAbsent(category, c -> new HashMap<>());
    ChannelKeys name = names.get(token);
    if (name == null) {
      if (size >= MAX_ENTRIES) {
        byCategory.values().forEach(Map::clear);
        size = 0;
      }
      name = ChannelKeys.of(token, category);
      names.put(token, name);
      size++;
    }
    return name;
  }
}
