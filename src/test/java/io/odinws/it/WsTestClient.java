package io.odinws.it;

import io.odinws.testkit.Await;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketFrame;
import io.vertx.core.json.JsonObject;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/** A real WebSocket client over a real socket, recording every text frame it receives, raw. */
final class WsTestClient implements AutoCloseable {

  /** A received text message: its exact payload bytes and the parsed JSON. */
  record Received(Buffer raw, JsonObject json) {
    String type() {
      return json.getString("type");
    }
  }

  /** Held, not read: Vert.x closes a WebSocketClient that is garbage collected, and every socket it opened with it. */
  private final WebSocketClient client;
  final WebSocket ws;
  final List<Received> received = new CopyOnWriteArrayList<>();
  /** Data envelopes only; appended on the client's event loop, read as snapshots. */
  private final List<Received> data = new ArrayList<>();
  volatile Short closeCode;

  private WsTestClient(WebSocketClient client, WebSocket ws) {
    this.client = client;
    this.ws = ws;
    ws.frameHandler(this::onFrame);
    ws.closeHandler(v -> closeCode = ws.closeStatusCode());
  }

  static Future<WsTestClient> connect(WebSocketClient client, int port) {
    return client.connect(port, "127.0.0.1", "/ws").map(ws -> new WsTestClient(client, ws));
  }

  static WsTestClient open(WebSocketClient client, int port) throws Exception {
    return connect(client, port).await(30, TimeUnit.SECONDS);
  }

  private void onFrame(WebSocketFrame frame) {
    if (frame.isText() && frame.isFinal()) {
      Buffer raw = frame.binaryData().copy();
      Received r = new Received(raw, new JsonObject(raw));
      if (r.json().containsKey("seq")) {
        synchronized (data) {
          data.add(r);
        }
      } else {
        received.add(r); // replies: few, scanned by awaitMessage
      }
    }
  }

  int localPort() {
    return ws.localAddress().port();
  }

  void send(String json) {
    ws.writeTextMessage(json);
  }

  /** Sends and waits for the first reply of {@code type} that arrives after the send. */
  JsonObject request(String json, String type) {
    int from = received.size();
    send(json);
    return awaitMessage(from, m -> type.equals(m.type()), Duration.ofSeconds(30)).json();
  }

  JsonObject subscribe(String... channels) {
    return request(subscribeRequest(channels), "subscription_ack");
  }

  /** The subscribe request for {@code channels}, for a test that sends many before awaiting their acks. */
  static String subscribeRequest(String... channels) {
    return new JsonObject().put("type", "subscribe").put("data", new JsonObject().put("channels", List.of(channels))).encode();
  }

  Received awaitMessage(int from, Predicate<Received> match, Duration timeout) {
    Received[] found = new Received[1];
    Await.until("a message matching the expectation", timeout, () -> {
      for (int i = from; i < received.size(); i++) {
        if (match.test(received.get(i))) {
          found[0] = received.get(i);
          return true;
        }
      }
      return false;
    }, () -> "received: " + received.stream().map(r -> r.raw().toString()).toList());
    return found[0];
  }

  /** Data envelopes (live or replayed), in arrival order: a snapshot. */
  List<Received> data() {
    synchronized (data) {
      return List.copyOf(data);
    }
  }

  int dataCount() {
    synchronized (data) {
      return data.size();
    }
  }

  @Override
  public void close() {
    ws.close();
  }
}
