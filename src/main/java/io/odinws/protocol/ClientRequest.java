package io.odinws.protocol;

import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A parsed client message (PROTOCOL.md section 3), or the error to answer with. Parsing never
 * throws: every malformed input maps to a documented {@link ErrorReply}.
 */
public sealed interface ClientRequest {

  record Subscribe(List<String> channels, JsonObject lastOffset) implements ClientRequest {
  }

  record Unsubscribe(List<String> channels) implements ClientRequest {
  }

  record Heartbeat() implements ClientRequest {
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

  static ClientRequest parse(String text) {
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
        yield new Subscribe(channels, (JsonObject) lastOffset);
      }
      case "unsubscribe" -> {
        List<String> channels = channels(d);
        yield channels == null
            ? new Invalid(ErrorReply.malformedData(t, "expected {\"channels\":[\"<token>.<category>\", ...]}"))
            : new Unsubscribe(channels);
      }
      case "heartbeat" -> new Heartbeat();
      case "auth" -> d != null && d.getValue("token") instanceof String token && !token.isEmpty()
          ? new Auth(token)
          : new Invalid(ErrorReply.malformedData(t, "expected {\"token\":\"<JWT>\"}"));
      case "reconnect" -> reconnect(d);
      default -> new Invalid(ErrorReply.unknownType(t));
    };
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
