package io.odinws.internal;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.unix.Socket;
import io.netty.channel.unix.UnixChannel;

import java.io.IOException;

/**
 * A socket's file descriptor, for writes that skip Netty's outbound queue ({@code io.netty.channel.unix}
 * is the native transports' own API, not meant for handlers). Only for channels of a native
 * transport; {@link #of} answers null for any other, and the caller then writes through Netty.
 */
public final class DirectSocket {

  private final Socket socket;

  private DirectSocket(Socket socket) {
    this.socket = socket;
  }

  /** @return the channel's socket, or null when the channel has none (NIO, embedded, local) */
  public static DirectSocket of(Channel channel) {
    return channel instanceof UnixChannel unix && unix.fd() instanceof Socket s ? new DirectSocket(s) : null;
  }

  /** send(2) of one direct buffer's readable bytes. @return bytes written, possibly fewer */
  public long send(ByteBuf frame) throws IOException {
    return socket.sendAddress(frame.memoryAddress(), frame.readerIndex(), frame.writerIndex());
  }

  /** writev(2) of the vector's entries. @return bytes written, possibly fewer */
  public long writev(WriteVector vector) throws IOException {
    return socket.writevAddresses(vector.address(), vector.count());
  }

  /**
   * Milliseconds since the kernel last sent new data on the channel's TCP socket (TCP_INFO's last_data_sent; a
   * zero-window probe carries none), or -1 when the transport cannot tell. Allocates: for rare checks only.
   */
  public static long millisSinceDataSent(Channel channel) {
    if (channel instanceof io.netty.channel.epoll.EpollSocketChannel epoll && channel.isActive()) {
      try {
        return epoll.tcpInfo().lastDataSent();
      } catch (RuntimeException e) {
        return -1;
      }
    }
    return -1;
  }

  /** Bytes Netty has queued for the channel and not yet written to its socket. */
  public static long queuedBytes(Channel channel) {
    var buffer = channel.unsafe().outboundBuffer();
    return buffer == null ? 0 : buffer.totalPendingWriteBytes();
  }
}
