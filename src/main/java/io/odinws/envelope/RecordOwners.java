package io.odinws.envelope;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;

import java.io.IOException;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The owners of a private topic's records: the string values at the topic's JSON pointers (RFC 6901)
 * in the record value, without duplicates (a self-transfer has one owner). Values that are missing
 * or not strings are ignored. One streaming pass over the value that skips every subtree no pointer
 * goes into; records of public topics cost one map lookup. The same instance serves the live path
 * and the Kafka replay path, so both agree. Immutable, thread-safe.
 */
public final class RecordOwners {

  /** No private topic: every record is public. */
  public static final RecordOwners NONE = new RecordOwners(Map.of());

  /** No interning: field names come from any producer, and the JVM's string table is not the place for them. */
  private static final JsonFactory JSON = JsonFactory.builder().disable(JsonFactory.Feature.INTERN_FIELD_NAMES).build();
  /** Pointers per topic are a bit mask while walking. */
  private static final int MAX_POINTERS = 64;

  private final Map<String, Pointers> byTopic;

  /** @param pointersByTopic private topic to its owner pointers (each {@code ""} or starting with {@code /}) */
  public RecordOwners(Map<String, List<String>> pointersByTopic) {
    Map<String, Pointers> m = new HashMap<>();
    pointersByTopic.forEach((topic, pointers) -> m.put(topic, Pointers.parse(topic, pointers)));
    this.byTopic = Map.copyOf(m);
  }

  /**
   * @param pointersByTopic the private topics (auth.privateTopics when authentication is on; empty when off)
   * @return {@link #NONE} when there is none
   */
  public static RecordOwners of(Map<String, List<String>> pointersByTopic) {
    return pointersByTopic.isEmpty() ? NONE : new RecordOwners(pointersByTopic);
  }

  /** The categories whose records (of a private topic) go to their owners only. */
  public Set<String> privateCategories(Map<String, String> topicToCategory) {
    Set<String> categories = new LinkedHashSet<>();
    for (String topic : byTopic.keySet()) {
      String category = topicToCategory.get(topic);
      if (category != null) {
        categories.add(category);
      }
    }
    return Set.copyOf(categories);
  }

  /**
   * @param value a record value that passed {@link RecordValidator#checkValue} (one JSON value)
   * @return null for a public topic; else its owners, immutable, possibly empty
   */
  public List<String> owners(String topic, byte[] value) {
    Pointers p = byTopic.get(topic);
    return p == null ? null : p.owners(value);
  }

  /** One topic's pointers, split into reference tokens. */
  private record Pointers(String[][] segments, int[][] indexes) {

    static Pointers parse(String topic, List<String> pointers) {
      if (pointers.size() > MAX_POINTERS) {
        throw new IllegalArgumentException("auth.privateTopics." + topic + ": at most " + MAX_POINTERS + " pointers");
      }
      String[][] segments = new String[pointers.size()][];
      int[][] indexes = new int[pointers.size()][];
      for (int i = 0; i < segments.length; i++) {
        String pointer = pointers.get(i);
        if (!pointer.isEmpty() && pointer.charAt(0) != '/') {
          throw new IllegalArgumentException("auth.privateTopics." + topic + ": '" + pointer + "' is not a JSON pointer");
        }
        String[] tokens = pointer.isEmpty() ? new String[0] : pointer.substring(1).split("/", -1);
        int[] idx = new int[tokens.length];
        for (int t = 0; t < tokens.length; t++) {
          tokens[t] = tokens[t].replace("~1", "/").replace("~0", "~");
          idx[t] = arrayIndex(tokens[t]);
        }
        segments[i] = tokens;
        indexes[i] = idx;
      }
      return new Pointers(segments, indexes);
    }

    /** The array index a reference token names, or -1 (RFC 6901: digits, no leading zero). */
    private static int arrayIndex(String token) {
      if (token.isEmpty() || token.length() > 9 || token.length() > 1 && token.charAt(0) == '0') {
        return -1;
      }
      for (int i = 0; i < token.length(); i++) {
        if (token.charAt(i) < '0' || token.charAt(i) > '9') {
          return -1;
        }
      }
      return Integer.parseInt(token);
    }

    List<String> owners(byte[] value) {
      Found found = new Found(segments.length);
      try (JsonParser p = JSON.createParser(value)) {
        JsonToken t = p.nextToken();
        if (t != null) {
          walk(p, t, 0, segments.length == 64 ? -1L : (1L << segments.length) - 1, found);
        }
      } catch (IOException e) {
        // the validator let only well-formed JSON through; whatever was found before still counts
      }
      return found.list();
    }

    /** @param mask the pointers whose first {@code depth} tokens name the current value */
    private void walk(JsonParser p, JsonToken t, int depth, long mask, Found found) throws IOException {
      if (t == JsonToken.VALUE_STRING) {
        for (int i = 0; i < segments.length; i++) {
          if ((mask & (1L << i)) != 0 && segments[i].length == depth) {
            found.add(p.getText());
            return;
          }
        }
        return;
      }
      if (t != JsonToken.START_OBJECT && t != JsonToken.START_ARRAY) {
        return; // numbers, booleans, null: not an owner
      }
      long deeper = 0;
      for (int i = 0; i < segments.length; i++) {
        if ((mask & (1L << i)) != 0 && segments[i].length > depth) {
          deeper |= 1L << i;
        }
      }
      if (deeper == 0) {
        p.skipChildren();
        return;
      }
      if (t == JsonToken.START_OBJECT) {
        while (p.nextToken() == JsonToken.FIELD_NAME) {
          String name = p.currentName();
          long m = 0;
          for (int i = 0; i < segments.length; i++) {
            if ((deeper & (1L << i)) != 0 && segments[i][depth].equals(name)) {
              m |= 1L << i;
            }
          }
          JsonToken v = p.nextToken();
          if (m == 0) {
            p.skipChildren();
          } else {
            walk(p, v, depth + 1, m, found);
          }
        }
      } else {
        int index = 0;
        JsonToken v;
        while ((v = p.nextToken()) != JsonToken.END_ARRAY && v != null) {
          long m = 0;
          for (int i = 0; i < segments.length; i++) {
            if ((deeper & (1L << i)) != 0 && indexes[i][depth] == index) {
              m |= 1L << i;
            }
          }
          if (m == 0) {
            p.skipChildren();
          } else {
            walk(p, v, depth + 1, m, found);
          }
          index++;
        }
      }
    }
  }

  /** The owners found so far, in pointer order of discovery, without duplicates. */
  private static final class Found {
    private final String[] items;
    private int size;

    Found(int max) {
      items = new String[max];
    }

    void add(String owner) {
      for (int i = 0; i < size; i++) {
        if (items[i].equals(owner)) {
          return;
        }
      }
      if (size < items.length) {
        items[size++] = owner;
      }
    }

    List<String> list() {
      return switch (size) {
        case 0 -> List.of();
        case 1 -> List.of(items[0]);
        case 2 -> List.of(items[0], items[1]);
        default -> List.of(java.util.Arrays.copyOf(items, size));
      };
    }
  }
}
