package io.odinws.ops;

import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerResponse;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The open {@code /api/operator/stream}s (Server-Sent Events): each gets every snapshot as one {@code data:} line
 * and a comment now and then, so that a proxy between sees traffic even if it buffers events. Bounded: over
 * {@link #MAX_STREAMS} a new one is refused; a reader whose socket stays full is closed rather than queued for.
 * Confined to the operations port's loop.
 */
final class OperatorStreams {

  static final int MAX_STREAMS = 16;
  /** Snapshots a stream may miss in a row (its socket full) before it is closed. */
  private static final int MAX_MISSED = 10;

  /** Each open stream and the snapshots it missed in a row. */
  private final Map<HttpServerResponse, Integer> open = new LinkedHashMap<>();

  int size() {
    return open.size();
  }

  /** Starts a stream on {@code response} with {@code first}; false when {@link #MAX_STREAMS} are open. */
  boolean open(HttpServerResponse response, String first) {
    if (open.size() >= MAX_STREAMS) {
      return false;
    }
    open.put(response, 0);
    response.closeHandler(v -> open.remove(response));
    response.setStatusCode(200)
        .setChunked(true)
        .putHeader(HttpHeaders.CONTENT_TYPE, "text/event-stream; charset=utf-8")
        .putHeader(HttpHeaders.CACHE_CONTROL, "no-store")
        .putHeader("X-Accel-Buffering", "no") // nginx would otherwise hold the events back
        // the browser's EventSource reconnects after this many ms when the stream breaks
        .write("retry: 2000\n\n" + event(first));
    return true;
  }

  void publish(String snapshot) {
    write(event(snapshot));
  }

  void heartbeat() {
    write(": keepalive\n\n");
  }

  /** Ends every stream (the server is stopping). */
  void closeAll() {
    for (HttpServerResponse r : new ArrayList<>(open.keySet())) {
      r.end();
    }
    open.clear();
  }

  private void write(String text) {
    for (Map.Entry<HttpServerResponse, Integer> e : new ArrayList<>(open.entrySet())) {
      HttpServerResponse r = e.getKey();
      if (!r.writeQueueFull()) {
        open.replace(r, 0);
        r.write(text);
      } else if (e.getValue() + 1 >= MAX_MISSED) {
        open.remove(r);
        r.reset();
      } else {
        open.put(r, e.getValue() + 1);
      }
    }
  }

  private static String event(String json) {
    return "data: " + json + "\n\n";
  }
}
