package io.odinws.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A parsed client message (PROTOCOL.md section 3), or the error to answer with. Parsing never
 * throws: every malformed input maps to a documented {@link ErrorReply}.
 */
public sealed interface ClientRequest {

  /**
   * @param snapshot messages per channel the client asked for as a snapshot (0: none), as asked: the
   *                 server clamps it to {@code recovery.maxSnapshotMessages}
   */
  record Subscribe(List<String> channels, JsonObject lastOffset, long snapshot) implements ClientRequest {

    public Subscribe(List<String> channels, JsonObject lastOffset) {
      this(channels, lastOffset, 0);
    }
  }

  record Unsubscribe(List<String> channels) implements ClientRequest {
  }

  record Heartbeat() implements ClientRequest {
    static final Heartbeat INSTANCE = new Heartbeat();
    /**
     * The heartbeat as clients write it ({@code JSON.stringify}'s output, the SDKs'): the message sent most, so it is
     * recognised by its bytes, without a string or a JSON tree. Any other spelling takes the general path.
     */
    private static final ByteBuf AS_SENT =
        Unpooled.unreleasableBuffer(Unpooled.wrappedBuffer("{\"type\":\"heartbeat\"}".getBytes(StandardCharsets.US_ASCII))).asReadOnly();

    private static boolean matches(ByteBuf utf8) {
      return ByteBufUtil.equals(utf8, AS_SENT); // the readable bytes of each, compared without moving either's index
    }
  }

  /** A token for the connection: its first authentication, or a refresh. */
  record Auth(String token) implements ClientRequest {
  }

  /** {@code lastOffset} maps channel to a {@code pos} string or a bare offset number (issue: recovery). */
  record Reconnect(String clientId, Map<String, Object> lastOffset) implements ClientRequest {
  }

  /** Input the server answers with an error reply and otherwise ignores. */
  record Invalid(ErrorReply error) implements ClientRequest {
  }

  /** Malformed {@code reconnect}: answered with {@code reconnect_error}. */
  record InvalidReconnect(String message) implements ClientRequest {
  }

  /** @param utf8 a text message's payload (valid UTF-8), not consumed */
  static ClientRequest parse(ByteBuf utf8, int maxSnapshot) {
    return Heartbeat.matches(utf8) ? Heartbeat.INSTANCE : parse(utf8.toString(StandardCharsets.UTF_8), maxSnapshot);
  }

  static ClientRequest parse(String text) {
    return parse(text, Integer.MAX_VALUE);
  }

  /** @param maxSnapshot {@code recovery.maxSnapshotMessages}, named in the error for a malformed {@code snapshot} */
  static ClientRequest parse(String text, int maxSnapshot) {
    JsonObject msg;
    try {
      msg = new JsonObject(text);
    } catch (DecodeException | ClassCastException e) {
      return new Invalid(ErrorReply.INVALID_JSON);
    }
    Object type = msg.getValue("type");
    if (!(type instanceof String t)) {
      return new Invalid(ErrorReply.MISSING_TYPE);
    }
    if (t.equals("replay")) {
      return new Invalid(ErrorReply.REPLAY_UNSUPPORTED); // the Go server's request, whatever its data
    }
    Object data = msg.getValue("data");
    if (data != null && !(data instanceof JsonObject)) {
      return new Invalid(ErrorReply.malformedData(t, "\"data\" must be an object"));
    }
    JsonObject d = (JsonObject) data;
    return switch (t) {
      case "subscribe" -> {
        List<String> channels = channels(d);
        Object lastOffset = d == null ? null : d.getValue("last_offset");
        if (channels == null || (lastOffset != null && !(lastOffset instanceof JsonObject))) {
          yield new Invalid(ErrorReply.malformedData(t, "expected {\"channels\":[\"<token>.<category>\", ...]}"));
        }
        long snapshot = d == null || !d.containsKey("snapshot") ? 0 : snapshot(d.getValue("snapshot"));
        if (snapshot < 0) {
          yield new Invalid(ErrorReply.malformedData(t, "\"snapshot\" must be a whole number from 0 to " + maxSnapshot));
        }
        yield new Subscribe(channels, (JsonObject) lastOffset, snapshot);
      }
      case "unsubscribe" -> {
        List<String> channels = channels(d);
        yield channels == null
            ? new Invalid(ErrorReply.malformedData(t, "expected {\"channels\":[\"<token>.<category>\", ...]}"))
            : new Unsubscribe(channels);
      }
      case "heartbeat" -> Heartbeat.INSTANCE;
      case "auth" -> d != null && d.getValue("token") instanceof String token && !token.isEmpty()
          ? new Auth(token)
          : new Invalid(ErrorReply.malformedData(t, "expected {\"token\":\"<JWT>\"}"));
      case "reconnect" -> reconnect(d);
      default -> new Invalid(ErrorReply.unknownType(t));
    };
  }

  /**
   * A subscribe's {@code snapshot} (present): a whole number >= 0 (20, 20.0, or beyond a long:
   * {@link Long#MAX_VALUE}, clamped later anyway); anything else -1.
   */
  private static long snapshot(Object value) {
    if (value instanceof Integer || value instanceof Long || value instanceof Short || value instanceof Byte) {
      long v = ((Number) value).longValue();
      return v >= 0 ? v : -1;
    }
    if (value instanceof java.math.BigInteger b) {
      return b.signum() < 0 ? -1 : b.bitLength() < 64 ? b.longValue() : Long.MAX_VALUE;
    }
    if (value instanceof java.math.BigDecimal b) {
      return b.signum() < 0 || b.stripTrailingZeros().scale() > 0 ? -1 : b.compareTo(java.math.BigDecimal.valueOf(Long.MAX_VALUE)) >= 0
          ? Long.MAX_VALUE : b.longValueExact();
    }
    if (value instanceof Double || value instanceof Float) {
      double v = ((Number) value).doubleValue();
      return v >= 0 && v == Math.rint(v) && !Double.isInfinite(v) ? (v >= 0x1p63 ? Long.MAX_VALUE : (long) v) : -1;
    }
    return -1;
  }

  private static List<String> channels(JsonObject data) {
    if (data == null || !(data.getValue("channels") instanceof JsonArray array)) {
      return null;
    }
    List<String> out = new ArrayList<>(array.size());
    for (Object o : array) {
      if (!(o instanceof String s)) {
        return null;
      }
      out.add(s);
    }
    return out;
  }

  private static ClientRequest reconnect(JsonObject d) {
    if (d == null || !(d.getValue("last_offset") instanceof JsonObject lastOffset)) {
      return new InvalidReconnect("Invalid reconnect request format: expected {\"type\":\"reconnect\",\"data\":{\"client_id\":\"...\",\"last_offset\":{\"BTC.trade\":\"3:1042\"}}}");
    }
    Object clientId = d.getValue("client_id");
    Map<String, Object> positions = new LinkedHashMap<>();
    for (Map.Entry<String, Object> e : lastOffset) {
      Object v = e.getValue();
      if (!(v instanceof String) && !(v instanceof Number)) {
        return new InvalidReconnect("Invalid reconnect request format: last_offset values must be \"<partition>:<offset>\" strings or offset numbers");
      }
      positions.put(e.getKey(), v);
    }
    return new Reconnect(clientId instanceof String s ? s : null, positions);
  }
}
