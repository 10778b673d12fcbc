package io.odinws.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/** The server's reply messages (PROTOCOL.md section 4), as JSON text. Not on the delivery path. */
public final class Replies {

  private Replies() {
  }

  /** A rejected channel and why; listed under the ack's {@code rejected}. */
  public record Rejected(String channel, String reason) {
  }

  private static final byte[] ACK_HEAD = "{\"type\":\"subscription_ack\",\"subscribed\":[".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] ACK_COUNT = "],\"count\":".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] ACK_REJECTED = ",\"rejected\":[".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] ACK_CHANNEL = "{\"channel\":".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] ACK_REASON = ",\"reason\":".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] ACK_POSITIONS = ",\"positions\":{".getBytes(StandardCharsets.US_ASCII);

  /**
   * The subscription_ack, as JsonObject.encode writes it, straight into a buffer from {@code alloc}: sent once per
   * subscribe, so once per connect, where a string, its builder and its UTF-8 copy were the ack's cost. The caller
   * owns the buffer.
   *
   * @param positions ext: for each subscribed channel, the position to recover it from if the connection drops
   *                  before its first message ({@code "P:O"}), or null for none (a wildcard); asked in order
   */
  public static ByteBuf subscriptionAck(ByteBufAllocator alloc, List<String> subscribed, List<Rejected> rejected, int count,
                                        Function<String, Position> positions) {
    ByteBuf b = alloc.buffer(ACK_HEAD.length + 48 + 48 * subscribed.size());
    b.writeBytes(ACK_HEAD);
    for (int i = 0; i < subscribed.size(); i++) {
      string(i == 0 ? b : b.writeByte(','), subscribed.get(i));
    }
    writeLong(b.writeBytes(ACK_COUNT), count);
    if (!rejected.isEmpty()) {
      b.writeBytes(ACK_REJECTED);
      for (int i = 0; i < rejected.size(); i++) {
        Rejected r = rejected.get(i);
        string(string((i == 0 ? b : b.writeByte(',')).writeBytes(ACK_CHANNEL), r.channel()).writeBytes(ACK_REASON), r.reason())
            .writeByte('}');
      }
      b.writeByte(']');
    }
    boolean first = true;
    for (int i = 0; i < subscribed.size(); i++) {
      Position p = positions.apply(subscribed.get(i));
      if (p != null) {
        string(first ? b.writeBytes(ACK_POSITIONS) : b.writeByte(','), subscribed.get(i)).writeByte(':').writeByte('"');
        writeLong(writeLong(b, p.partition()).writeByte(':'), p.offset()).writeByte('"');
        first = false;
      }
    }
    if (!first) {
      b.writeByte('}');
    }
    return b.writeByte('}');
  }

  /** {@link #string(StringBuilder, String)} into a buffer, as UTF-8; a name with nothing to escape as its bytes. */
  static ByteBuf string(ByteBuf b, String s) {
    if (s == null) {
      ByteBufUtil.writeAscii(b, "null");
      return b;
    }
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < 0x20 || c >= 0x80 || c == '"' || c == '\\') {
        ByteBufUtil.writeUtf8(b, string(new StringBuilder(s.length() + 8), s));
        return b;
      }
    }
    b.writeByte('"');
    ByteBufUtil.writeAscii(b, s);
    return b.writeByte('"');
  }

  /**
   * {@code s} as a JSON string, escaped as Jackson (behind JsonObject.encode) escapes it: quote, backslash and
   * control characters, the usual ones by their short form, the others as an upper-case {@code \\u00XX}.
   */
  static StringBuilder string(StringBuilder b, String s) {
    if (s == null) {
      return b.append("null");
    }
    b.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c >= 0x20 && c != '"' && c != '\\') {
        b.append(c);
        continue;
      }
      switch (c) {
        case '"' -> b.append("\\\"");
        case '\\' -> b.append("\\\\");
        case '\b' -> b.append("\\b");
        case '\t' -> b.append("\\t");
        case '\n' -> b.append("\\n");
        case '\f' -> b.append("\\f");
        case '\r' -> b.append("\\r");
        default -> b.append("\\u00").append(HEX[c >> 4]).append(HEX[c & 0xF]);
      }
    }
    return b.append('"');
  }

  private static final char[] HEX = "0123456789ABCDEF".toCharArray();

  public static String unsubscriptionAck(List<String> unsubscribed, List<Rejected> rejected, int count) {
    JsonObject o = new JsonObject().put("type", "unsubscription_ack").put("unsubscribed", new JsonArray(List.copyOf(unsubscribed))).put("count", count);
    if (!rejected.isEmpty()) {
      o.put("rejected", rejectedArray(rejected));
    }
    return o.encode();
  }

  private static final byte[] PONG_HEAD = "{\"type\":\"pong\",\"ts\":".getBytes(StandardCharsets.US_ASCII);

  /**
   * {@code {"type":"pong","ts":<nowMillis>}}, written straight into a buffer from {@code alloc} (no string, no copy:
   * a heartbeat's answer is the reply sent most). The caller owns the buffer.
   */
  public static ByteBuf pong(ByteBufAllocator alloc, long nowMillis) {
    return writeLong(alloc.buffer(PONG_HEAD.length + 21).writeBytes(PONG_HEAD), nowMillis).writeByte('}');
  }

  /** {@code v} in decimal, without a string on the way (a negative number, which no reply sends often, with one). */
  static ByteBuf writeLong(ByteBuf buf, long v) {
    if (v < 0) {
      ByteBufUtil.writeAscii(buf, Long.toString(v));
      return buf;
    }
    // the digits, last first, into their places
    int end = buf.writerIndex() + digits(v);
    buf.ensureWritable(end - buf.writerIndex());
    for (int i = end - 1; i >= buf.writerIndex(); i--, v /= 10) {
      buf.setByte(i, '0' + (int) (v % 10));
    }
    return buf.writerIndex(end);
  }

  private static int digits(long nonNegative) {
    int n = 1;
    for (long v = nonNegative; v >= 10; v /= 10) {
      n++;
    }
    return n;
  }

  public static String error(ErrorReply e) {
    return new JsonObject().put("type", "error").put("code", e.code()).put("message", e.message()).encode();
  }

  /**
   * @param expiresAtMillis the token's {@code exp}; {@link Long#MAX_VALUE} when it has none ({@code expires_at} null)
   * @param revoked         subscriptions a refresh's narrower channels claim ended (omitted when none)
   */
  public static String authAck(String subject, long expiresAtMillis, List<String> revoked) {
    JsonObject o = new JsonObject().put("type", "auth_ack").put("sub", subject)
        .put("expires_at", expiresAtMillis == Long.MAX_VALUE ? null : expiresAtMillis / 1000);
    if (!revoked.isEmpty()) {
      o.put("revoked", new JsonArray(List.copyOf(revoked)));
    }
    return o.encode();
  }

  public static String authError(String code, String message) {
    return new JsonObject().put("type", "auth_error").put("code", code).put("message", message).encode();
  }

  public static String reconnectError(String message) {
    return new JsonObject().put("type", "reconnect_error").put("message", message).encode();
  }

  /** Per-channel recovery outcome; {@code error} says why a channel could not even be subscribed (else null). */
  public record ChannelRecovery(boolean recovered, int replayed, String error) {
  }

  public static String reconnectAck(Map<String, ChannelRecovery> channels) {
    int replayed = 0;
    boolean all = !channels.isEmpty();
    JsonObject per = new JsonObject();
    for (Map.Entry<String, ChannelRecovery> e : channels.entrySet()) {
      replayed += e.getValue().replayed();
      all &= e.getValue().recovered();
      JsonObject channel = new JsonObject().put("recovered", e.getValue().recovered()).put("replayed", e.getValue().replayed());
      if (e.getValue().error() != null) {
        channel.put("error", e.getValue().error());
      }
      per.put(e.getKey(), channel);
    }
    return new JsonObject()
        .put("type", "reconnect_ack")
        .put("status", "completed")
        .put("messages_replayed", replayed)
        .put("message", "Replayed " + replayed + " missed messages")
        .put("recovered", all)
        .put("channels", per)
        .encode();
  }

  /**
   * One channel of a snapshot on subscribe.
   *
   * @param requested what the subscribe asked (before clamping)
   * @param position  the position the channel's live messages continue after ({@code "P:O"}); null when unknown
   * @param error     why fewer than asked were sent although the channel may have more; null otherwise
   */
  public record ChannelSnapshot(long requested, int sent, String position, String error) {
  }

  public static String snapshotAck(Map<String, ChannelSnapshot> channels) {
    int sent = 0;
    JsonObject per = new JsonObject();
    for (Map.Entry<String, ChannelSnapshot> e : channels.entrySet()) {
      ChannelSnapshot c = e.getValue();
      sent += c.sent();
      JsonObject channel = new JsonObject().put("requested", c.requested()).put("sent", c.sent());
      if (c.position() != null) {
        channel.put("position", c.position());
      }
      if (c.error() != null) {
        channel.put("error", c.error());
      }
      per.put(e.getKey(), channel);
    }
    return new JsonObject().put("type", "snapshot_ack").put("messages_sent", sent).put("channels", per).encode();
  }

  private static JsonArray rejectedArray(List<Rejected> rejected) {
    JsonArray a = new JsonArray();
    for (Rejected r : rejected) {
      a.add(new JsonObject().put("channel", r.channel()).put("reason", r.reason()));
    }
    return a;
  }
}
