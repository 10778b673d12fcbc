package io.odinws.router;

import io.netty.channel.Channel;
import io.netty.channel.ServerChannel;
import io.odinws.config.HttpConfig;
import io.odinws.internal.NativeListener;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;

/**
 * The public port, listening from the first moments of the process: {@code Main} binds it as soon as the
 * configuration is read, before Vert.x and the shards start, and the {@link RouterVerticle} adopts it. While the
 * rest starts, clients' connects are taken off the kernel's accept queue and held ({@link EarlyAcceptor}) instead of
 * being refused, so that a client reconnecting to a restarting server is answered when the router starts rather than
 * at its next backoff step, or a second later when the queue was full.
 *
 * <p>Epoll only (Linux with Netty's native transport, what Vert.x runs on there): {@link #bind} returns null
 * elsewhere, and the router binds the port itself as before. Owns the socket until {@link #adopt} hands it to
 * a channel, and the connections held until {@link #takeHeld}; {@link #close} closes what it still owns.
 */
public final class PreboundPort implements AutoCloseable {

  /** The listen backlog, as the router asks for when it binds (the kernel caps it at net.core.somaxconn). */
  static final int BACKLOG = 8192;
  /** At most this many connections held before the router starts: well within the descriptors a process has. */
  static final int MAX_HELD = 16_384;

  private final HttpConfig http;
  private final NativeListener listener;
  private final EarlyAcceptor early;
  private boolean taken;
  /** Accepted before {@link #adopt}; owned here until {@link #takeHeld}. */
  private int[] held = new int[0];

  private PreboundPort(HttpConfig http, NativeListener listener) {
    this.http = http;
    this.listener = listener;
    this.early = new EarlyAcceptor(listener, MAX_HELD);
  }

  /**
   * Binds and listens on {@code http}'s address with the router's options ({@code SO_REUSEADDR}, and
   * {@code SO_REUSEPORT} when configured).
   *
   * @return null when the native transport is not available (the router then binds on its own)
   * @throws IOException when the port cannot be bound (in use, not permitted)
   */
  public static PreboundPort bind(HttpConfig http) throws IOException {
    return bind(http, BACKLOG);
  }

  /** {@link #bind(HttpConfig)} with another listen backlog (tests: a queue that a few connects fill). */
  public static PreboundPort bind(HttpConfig http, int backlog) throws IOException {
    NativeListener listener = NativeListener.listen(new InetSocketAddress(http.host(), http.port()), http.reusePort(), backlog);
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

  /**
   * A server channel on the listening socket, which from now on owns it (its close closes the socket). Stops
   * holding connections: what comes from now on waits in the queue for the channel; {@link #takeHeld} gives
   * those held so far.
   */
  synchronized ServerChannel adopt() {
    if (taken) {
      throw new IllegalStateException("the prebound port was already adopted or closed");
    }
    taken = true;
    held = early.stop();
    return listener.adopt();
  }

  /** The connections accepted before {@link #adopt}, oldest first, each as a channel the caller now owns. */
  synchronized List<Channel> takeHeld() {
    List<Channel> channels = new ArrayList<>(held.length);
    for (int fd : held) {
      try {
        channels.add(NativeListener.channelOf(fd));
      } catch (RuntimeException e) { // a socket that failed meanwhile: reset, as a queued one would be
        NativeListener.closeAccepted(fd);
      }
    }
    held = new int[0];
    return channels;
  }

  /**
   * Closes the socket unless a channel adopted it, and the connections held and not taken: connections waiting
   * in the queue or held are reset (their clients reconnect).
   */
  @Override
  public synchronized void close() {
    if (!taken) {
      taken = true;
      held = early.stop();
      listener.close();
    }
    for (int fd : held) {
      NativeListener.closeAccepted(fd);
    }
    held = new int[0];
  }
}
