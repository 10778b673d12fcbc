package io.odinws.internal;

import io.netty.channel.Channel;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.unix.Socket;

import java.io.IOException;
import java.net.InetSocketAddress;

/**
 * A listening TCP socket of Netty's epoll transport, opened without a channel or an event loop, for a channel to
 * take over later ({@code router.PreboundPort}). Owns the descriptor until {@link #adopt} hands it to the channel.
 */
public final class NativeListener {

  private final Socket socket;
  private final int port;
  /** The peer address accept writes (Netty's layout: up to an IPv6 address, port and scope); not read. */
  private final byte[] acceptedAddress = new byte[26];

  private NativeListener(Socket socket, int port) {
    this.socket = socket;
    this.port = port;
  }

  /**
   * Binds {@code address} and listens, with {@code SO_REUSEADDR} (and {@code SO_REUSEPORT} when asked), as Netty's
   * own epoll server channel does.
   *
   * @return null when the epoll transport is not available on this machine
   * @throws IOException when the address cannot be bound
   */
  public static NativeListener listen(InetSocketAddress address, boolean reusePort, int backlog) throws IOException {
    if (!Epoll.isAvailable()) {
      return null;
    }
    Socket socket = Socket.newSocketStream();
    try {
      socket.setReuseAddress(true);
      if (reusePort) {
        socket.setReusePort(true);
      }
      socket.bind(address);
      socket.listen(backlog);
      return new NativeListener(socket, socket.localAddress().getPort());
    } catch (IOException | RuntimeException e) {
      socket.close();
      throw e;
    }
  }

  /** The bound port. */
  public int port() {
    return port;
  }

  /**
   * Takes one connection off the accept queue without waiting (accept4 with {@code SOCK_NONBLOCK | SOCK_CLOEXEC},
   * as Netty's epoll server channel accepts). The caller owns the returned descriptor.
   *
   * @return the connection's descriptor, or -1 when none is waiting
   * @throws IOException when accept fails (out of descriptors, the socket closed)
   */
  public int acceptNow() throws IOException {
    return socket.accept(acceptedAddress);
  }

  /** A socket on a descriptor {@link #acceptNow} returned, which from now on owns it (its close closes it). */
  public static Channel channelOf(int fd) {
    return new EpollSocketChannel(fd);
  }

  /** Closes a descriptor {@link #acceptNow} returned that no channel took. */
  public static void closeAccepted(int fd) {
    try {
      new Socket(fd).close();
    } catch (IOException ignored) {
      // only fails for a descriptor already closed
    }
  }

  /** An epoll server channel on this socket, already active: registering it starts accepting. It owns the socket now. */
  public ServerChannel adopt() {
    return new EpollServerSocketChannel(socket.intValue());
  }

  /** Closes the socket (not after {@link #adopt}: the channel's close does it then). */
  public void close() {
    try {
      socket.close();
    } catch (IOException ignored) {
      // only fails for a descriptor already closed
    }
  }
}
