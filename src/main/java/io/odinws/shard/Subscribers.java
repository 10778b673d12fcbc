package io.odinws.shard;

import java.util.Arrays;

/** The connections subscribed to one channel on one shard: a plain array, scanned on fan-out. */
final class Subscribers {

  private Connection[] items = new Connection[4];
  private int size;

  /** The backing array: entries {@code [0, size())} are the subscribers; read it, do not keep it. */
  Connection[] items() {
    return items;
  }

  int size() {
    return size;
  }

  boolean contains(Connection c) {
    for (int i = 0; i < size; i++) {
      if (items[i] == c) {
        return true;
      }
    }
    return false;
  }

  void add(Connection c) {
    if (size == items.length) {
      items = Arrays.copyOf(items, size * 2);
    }
    items[size++] = c;
  }

  /** Swap-with-last removal: order among subscribers carries no meaning. */
  boolean remove(Connection c) {
    for (int i = 0; i < size; i++) {
      if (items[i] == c) {
        items[i] = items[--size];
        items[size] = null;
        return true;
      }
    }
    return false;
  }
}
