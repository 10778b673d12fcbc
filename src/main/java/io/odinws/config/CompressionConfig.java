package io.odinws.config;

/**
 * permessage-deflate on the public WebSocket (PROTOCOL.md sections 1 and 10): negotiated with clients that offer
 * it; each live message of at least {@code minBytes} compressed once, at ingest, and shared by every such client.
 *
 * @param enabled  false: the extension is never answered, every client gets uncompressed frames
 * @param minBytes messages whose envelope is shorter go uncompressed (not worth the CPU or the bytes)
 * @param level    the zlib level, 1 (fastest) to 9 (smallest)
 */
public record CompressionConfig(boolean enabled, int minBytes, int level) {

  public static final CompressionConfig OFF = new CompressionConfig(false, 0, 1);
}
