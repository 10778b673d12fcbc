package io.odinws.auth;

import io.odinws.internal.JwsKey;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The verification keys in force, immutable: swapped whole on a reload. A token naming a {@code kid}
 * is tried against the keys of that id only; a token without one, or a set whose keys have no ids
 * (PEM, HMAC secret), against every key.
 */
record KeySet(List<JwsKey> keys, Map<String, List<JwsKey>> byKid) {

  static KeySet of(List<JwsKey> keys) {
    Map<String, List<JwsKey>> byKid = new HashMap<>();
    for (JwsKey k : keys) {
      if (k.kid() != null) {
        byKid.computeIfAbsent(k.kid(), id -> new ArrayList<>()).add(k);
      }
    }
    byKid.replaceAll((id, list) -> List.copyOf(list));
    return new KeySet(List.copyOf(keys), Map.copyOf(byKid));
  }

  /** The keys a token with header {@code kid} (null: none) may be signed with; empty when none can. */
  List<JwsKey> candidates(String kid) {
    if (kid == null || byKid.isEmpty()) {
      return keys;
    }
    return byKid.getOrDefault(kid, List.of());
  }

  int size() {
    return keys.size();
  }
}
