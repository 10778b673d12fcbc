package io.odinws.shard;

import io.netty.buffer.ByteBuf;
import io.odinws.envelope.ChannelKeys;
import io.odinws.envelope.OutboundMessage;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.function.Predicate;

/**
 * A slow connection's conflated messages (PROTOCOL.md section 9): the newest live message per channel of a
 * {@code latest} category that arrived while the connection was over its high water mark, and how many older
 * ones of that channel it replaced. At most one per channel the connection receives.
 *
 * <p>Ownership: each kept message holds one reference to its shared frame, taken by {@link #keep} and handed on
 * by {@link #takeAll} (to Netty, through the connection's write) or released by {@link #releaseIf} and
 * {@link #releaseAll}. On the shard's loop only.
 */
final class KeptMessages {

  /** One channel's newest pending message. */
  static final class Kept {
    OutboundMessage message;
    /** Messages of the channel replaced since the last one the connection was sent. */
    long skipped;
  }

  /** What {@link #takeAll} hands each kept message to; it owns the frame's reference from then on. */
  interface Sink {
    void write(OutboundMessage message, long skipped);
  }

  private final LinkedHashMap<String, Kept> byChannel = new LinkedHashMap<>();

  /**
   * Keeps {@code m} as its channel's newest pending message, releasing the one it replaces.
   *
   * @return true when it replaced one (one message of the channel skipped)
   */
  boolean keep(OutboundMessage m) {
    m.frame().retain();
    Kept k = byChannel.get(m.channel());
    if (k == null) {
      k = new Kept();
      k.message = m;
      byChannel.put(m.channel(), k);
      return false;
    }
    k.message.frame().release();
    k.message = m;
    k.skipped++;
    return true;
  }

  boolean contains(String channel) {
    return byChannel.containsKey(channel);
  }

  boolean isEmpty() {
    return byChannel.isEmpty();
  }

  int size() {
    return byChannel.size();
  }

  /** Hands every kept message to {@code sink}, in the order their channels were first kept, and forgets them. */
  int takeAll(Sink sink) {
    int n = byChannel.size();
    for (Iterator<Kept> it = byChannel.values().iterator(); it.hasNext(); ) {
      Kept k = it.next();
      it.remove();
      sink.write(k.message, k.skipped);
    }
    return n;
  }

  /** Releases and forgets the kept messages whose channel {@code drop} selects. @return how many */
  int releaseIf(Predicate<ChannelKeys> drop) {
    int n = 0;
    for (Iterator<Kept> it = byChannel.values().iterator(); it.hasNext(); ) {
      Kept k = it.next();
      if (drop.test(k.message.keys())) {
        it.remove();
        k.message.frame().release();
        n++;
      }
    }
    return n;
  }

  /** Releases and forgets every kept message. @return how many */
  int releaseAll() {
    return releaseIf(keys -> true);
  }
}
