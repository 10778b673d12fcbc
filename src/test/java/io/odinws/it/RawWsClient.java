package io.odinws.it;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A WebSocket client written against the raw socket, frame by frame: it answers nothing by itself
 * (no automatic pong), so tests decide exactly what the server sees.
 */
final class RawWsClient implements AutoCloseable {

  record Frame(int opcode, boolean fin, byte[] payload) {
    String text() {
      return new String(payload, StandardCharsets.UTF_8);
    }

    int closeCode() {
      return payload.length >= 2 ? ((payload[0] & 0xFF) << 8) | (payload[1] & 0xFF) : -1;
    }
  }

  final Socket socket;
  private final DataInputStream in;
  private final OutputStream out;
  final String handshakeResponse;

  private RawWsClient(Socket socket, String handshakeResponse, InputStream in) throws IOException {
    this.socket = socket;
    this.handshakeResponse = handshakeResponse;
    this.in = new DataInputStream(in);
    this.out = socket.getOutputStream();
  }

  /** A valid upgrade request's line and headers, without the blank line that ends them: add headers, then "\r\n". */
  static final String UPGRADE_HEADERS = "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n";

  /** An HTTP response head, up to and with its blank line; shorter when the socket closes first. */
  static String readHead(InputStream in) throws IOException {
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    while (!head.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
      int b = in.read();
      if (b < 0) {
        break;
      }
      head.write(b);
    }
    return head.toString(StandardCharsets.ISO_8859_1);
  }

  static RawWsClient connect(int port) throws IOException {
    return connect(port, 0);
  }

  /** @param receiveBufferBytes the socket's receive buffer, set before connecting (0: the system default) */
  static RawWsClient connect(int port, int receiveBufferBytes) throws IOException {
    Socket s = new Socket();
    if (receiveBufferBytes > 0) {
      s.setReceiveBufferSize(receiveBufferBytes); // must precede connect to shape the TCP window
    }
    s.connect(new java.net.InetSocketAddress("127.0.0.1", port));
    s.setSoTimeout(30_000);
    byte[] key = new byte[16];
    ThreadLocalRandom.current().nextBytes(key);
    String req = "GET /ws HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        + "Sec-WebSocket-Key: " + Base64.getEncoder().encodeToString(key) + "\r\nSec-WebSocket-Version: 13\r\n\r\n";
    s.getOutputStream().write(req.getBytes(StandardCharsets.US_ASCII));
    InputStream in = s.getInputStream();
    String response = readHead(in);
    if (!response.endsWith("\r\n\r\n")) {
      throw new IOException("closed during handshake: " + response);
    }
    if (!response.startsWith("HTTP/1.1 101")) {
      throw new IOException("handshake refused: " + response);
    }
    return new RawWsClient(s, response, in);
  }

  /** Sends one masked frame, as a client must. */
  void send(int opcode, boolean fin, byte[] payload) throws IOException {
    ByteArrayOutputStream f = new ByteArrayOutputStream();
    f.write((fin ? 0x80 : 0) | opcode);
    int len = payload.length;
    if (len < 126) {
      f.write(0x80 | len);
    } else if (len <= 0xFFFF) {
      f.write(0x80 | 126);
      f.write(len >>> 8);
      f.write(len);
    } else {
      f.write(0x80 | 127);
      for (int i = 7; i >= 0; i--) {
        f.write((int) ((long) len >>> (8 * i)));
      }
    }
    byte[] mask = new byte[4];
    ThreadLocalRandom.current().nextBytes(mask);
    f.write(mask);
    for (int i = 0; i < len; i++) {
      f.write(payload[i] ^ mask[i & 3]);
    }
    out.write(f.toByteArray());
    out.flush();
  }

  void sendText(String text) throws IOException {
    send(0x1, true, text.getBytes(StandardCharsets.UTF_8));
  }

  /** Reads the next frame; null at end of stream. */
  Frame read() throws IOException {
    int b0 = in.read();
    if (b0 < 0) {
      return null;
    }
    int b1 = in.readUnsignedByte();
    long len = b1 & 0x7F;
    if (len == 126) {
      len = in.readUnsignedShort();
    } else if (len == 127) {
      len = in.readLong();
    }
    if ((b1 & 0x80) != 0) {
      throw new IOException("server frames must not be masked");
    }
    byte[] payload = new byte[(int) len];
    in.readFully(payload);
    return new Frame(b0 & 0x0F, (b0 & 0x80) != 0, payload);
  }

  /** Reads frames until one with {@code opcode}; null if the stream ends first. */
  Frame readUntil(int opcode) throws IOException {
    for (Frame f = read(); f != null; f = read()) {
      if (f.opcode() == opcode) {
        return f;
      }
    }
    return null;
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
