package io.odinws.it;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * What the SDK tests' applications saw: per client and channel, the positions their message callbacks were handed,
 * in order, fed from the scripts' {@code {"ev":"msgs","client":i,"msgs":[[channel,pos],...]}} events. Thread-safe.
 */
final class SeenPositions {

  private final Map<Integer, Map<String, List<String>>> seen = new HashMap<>(); // guarded by this

  /** A script event; anything but {@code msgs} is ignored. */
  synchronized void add(JsonObject event) {
    if (!"msgs".equals(event.getString("ev"))) {
      return;
    }
    Map<String, List<String>> mine = seen.computeIfAbsent(event.getInteger("client"), k -> new HashMap<>());
    for (Object o : event.getJsonArray("msgs")) {
      JsonArray m = (JsonArray) o;
      mine.computeIfAbsent(m.getString(0), k -> new ArrayList<>()).add(m.getString(1));
    }
  }

  synchronized List<String> of(int client, String channel) {
    return List.copyOf(seen.getOrDefault(client, Map.of()).getOrDefault(channel, List.of()));
  }

  synchronized long total() {
    return seen.values().stream().flatMap(m -> m.values().stream()).mapToLong(List::size).sum();
  }

  /** Whether {@code client} was handed the last of {@code expected} on {@code channel}. */
  synchronized boolean reached(int client, String channel, List<String> expected) {
    List<String> mine = seen.getOrDefault(client, Map.of()).getOrDefault(channel, List.of());
    return !mine.isEmpty() && mine.get(mine.size() - 1).equals(expected.get(expected.size() - 1));
  }

  synchronized String summary() {
    StringBuilder b = new StringBuilder("delivered per client:");
    seen.forEach((i, m) -> b.append(' ').append(i).append('=').append(m.values().stream().mapToInt(List::size).sum()));
    return b.toString();
  }

  /** What differs, briefly: counts of missing and repeated positions, and the first place the sequences part. */
  static String difference(List<String> expected, List<String> actual) {
    List<String> missing = new ArrayList<>(expected);
    missing.removeAll(actual);
    long repeated = actual.size() - actual.stream().distinct().count();
    int same = 0;
    while (same < Math.min(expected.size(), actual.size()) && expected.get(same).equals(actual.get(same))) {
      same++;
    }
    return "expected " + expected.size() + ", saw " + actual.size() + ", missing " + missing.size()
        + (missing.isEmpty() ? "" : " (first " + missing.get(0) + ")") + ", repeated " + repeated
        + ", first difference at index " + same;
  }
}
