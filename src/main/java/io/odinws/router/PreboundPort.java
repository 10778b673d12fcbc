package io.odinws.router;

import io.netty.channel.ServerChannel;
import io.odinws.config.HttpConfig;
import io.odinws.internal.NativeListener;

import java.io.IOException;
import java.net.InetSocketAddress;

/**
 * The public port, listening from the first moments of the process: {@code Main} binds it as soon as the
 * configuration is read, before Vert.x and the shards start, and the {@link RouterVerticle} adopts it. While the
 * rest starts, clients' connects wait in the kernel's accept queue instead of being refused, so that a client
 * reconnecting to a restarting server is answered when the router starts rather than at its next backoff step.
 *
 * <p>Epoll only (Linux with Netty's native transport, what Vert.x runs on there): {@link #bind} returns null
 * elsewhere, and the router binds the port itself as before. Owns the socket until {@link #adopt} hands it to
 * a channel; {@link #close} closes it when it was never adopted.
 */
public final class PreboundPort implements AutoCloseable {

  /** The listen backlog, as the router asks for when it binds (the kernel caps it at net.core.somaxconn). */
  static final int BACKLOG = 8192;

  private final HttpConfig http;
  private final NativeListener listener;
  private boolean taken;

  private PreboundPort(HttpConfig http, NativeListener listener) {
    this.http = http;
    this.listener = listener;
  }

  /**
   * Binds and listens on {@code http}'s address with the router's options ({@code SO_REUSEADDR}, and
   * {@code SO_REUSEPORT} when configured).
   *
   * @return null when the native transport is not available (the router then binds on its own)
   * @throws IOException when the port cannot be bound (in use, not permitted)
   */
  public static PreboundPort bind(HttpConfig http) throws IOException {
    NativeListener listener = NativeListener.listen(new InetSocketAddress(http.host(), http.port()), http.reusePort(), BACKLOG);
    return listener == null ? null : new PreboundPort(http, listener);
  }

  /** The bound port (the chosen one when the configuration says 0). */
  public int port() {
    return listener.port();
  }

  /** Whether this is the port {@code wanted} describes (the router adopts it only then). */
  boolean serves(HttpConfig wanted) {
    return http.host().equals(wanted.host()) && http.reusePort() == wanted.reusePort()
        && (wanted.port() == http.port() || wanted.port() == port());
  }

  /** A server channel on the listening socket, which from now on owns it (its close closes the socket). */
  synchronized ServerChannel adopt() {
    if (taken) {
      throw new IllegalStateException("the prebound port was already adopted or closed");
    }
    taken = true;
    return listener.adopt();
  }

  /** Closes the socket unless a channel adopted it; connections waiting in its queue are reset. */
  @Override
  public synchronized void close() {
    if (!taken) {
      taken = true;
      listener.close();
    }
  }
}
