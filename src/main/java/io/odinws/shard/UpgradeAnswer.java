package io.odinws.shard;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.websocketx.WebSocketServerHandshakeException;

import java.nio.charset.StandardCharsets;
import java.security.DigestException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;

/**
 * The 101 that accepts a version 13 handshake (RFC 6455 4.2.2), as bytes: what Netty's handshaker and HTTP encoder
 * write, header for header and in the same order, without a response object, its header map and their encoding on
 * every connect. The request is checked as Netty's handshaker checks it, with its messages. One per shard, used on
 * the shard's loop only (its digest is reused).
 */
final class UpgradeAnswer {

  private static final byte[] GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] STATUS = "HTTP/1.1 101 Switching Protocols\r\n".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] EXTENSIONS = "sec-websocket-extensions: ".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] UPGRADE = "upgrade: websocket\r\nconnection: upgrade\r\nsec-websocket-accept: "
      .getBytes(StandardCharsets.US_ASCII);
  private static final int SHA1_BYTES = 20;
  /** Base64 of 20 bytes. */
  private static final int ACCEPT_CHARS = 28;

  private final MessageDigest sha1;
  private final byte[] digest = new byte[SHA1_BYTES];

  UpgradeAnswer() {
    try {
      sha1 = MessageDigest.getInstance("SHA-1");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java platform has SHA-1", e);
    }
  }

  /**
   * @param deflate the permessage-deflate answer, or null when none is sent
   * @return the whole answer, in a buffer of {@code alloc}'s that the caller writes (and so hands to Netty)
   * @throws WebSocketServerHandshakeException naming what is invalid, as Netty's handshaker does
   */
  ByteBuf answer(ByteBufAllocator alloc, FullHttpRequest req, String deflate) {
    HttpMethod method = req.method();
    if (!HttpMethod.GET.equals(method)) {
      throw new WebSocketServerHandshakeException("Invalid WebSocket handshake method: " + method, req);
    }
    HttpHeaders headers = req.headers();
    if (!headers.containsValue(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE, true)) {
      throw new WebSocketServerHandshakeException(
          "not a WebSocket request: a |Connection| header must includes a token 'Upgrade'", req);
    }
    if (!headers.contains(HttpHeaderNames.UPGRADE, HttpHeaderValues.WEBSOCKET, true)) {
      throw new WebSocketServerHandshakeException(
          "not a WebSocket request: a |Upgrade| header must containing the value 'websocket'", req);
    }
    String key = headers.get(HttpHeaderNames.SEC_WEBSOCKET_KEY);
    if (key == null) {
      throw new WebSocketServerHandshakeException("not a WebSocket request: missing key", req);
    }
    byte[] accept = Base64.getEncoder().encode(accept(key));
    int length = STATUS.length + UPGRADE.length + ACCEPT_CHARS + 4
        + (deflate == null ? 0 : EXTENSIONS.length + deflate.length() + 2);
    ByteBuf out = alloc.buffer(length);
    out.writeBytes(STATUS);
    if (deflate != null) {
      out.writeBytes(EXTENSIONS).writeCharSequence(deflate, StandardCharsets.US_ASCII);
      out.writeShort(0x0d0a); // CRLF
    }
    out.writeBytes(UPGRADE).writeBytes(accept).writeInt(0x0d0a0d0a); // CRLF CRLF
    return out;
  }

  /** SHA-1 of the key (as US-ASCII: any other character counts as '?', as String.getBytes does) and RFC 6455's GUID. */
  private byte[] accept(String key) {
    for (int i = 0; i < key.length(); i++) {
      char c = key.charAt(i);
      sha1.update(c < 0x80 ? (byte) c : (byte) '?');
    }
    sha1.update(GUID);
    try {
      sha1.digest(digest, 0, SHA1_BYTES);
    } catch (DigestException e) {
      throw new IllegalStateException(e);
    }
    return digest;
  }
}
