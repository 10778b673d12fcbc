package io.odinws.shard;

import io.netty.channel.Channel;
import io.odinws.auth.Identity;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Sets a live connection's identity from a test outside this package, as the authentication flow does
 * (identity, then the index's re-indexing), without a token: for tests of what identity changes downstream.
 */
public final class TestIdentities {

  private TestIdentities() {
  }

  /**
   * Authenticates, as {@code subject} without expiry, the connection whose client end is on local port
   * {@code clientPort}, on whichever shard holds it. Blocks until done; fails when no shard has it.
   */
  public static void authenticate(List<ShardVerticle> shards, int clientPort, String subject) throws Exception {
    for (ShardVerticle v : shards) {
      boolean found = v.eventLoop().submit(() -> {
        Shard shard = v.shard();
        for (Channel ch : shard.channels()) {
          if (ch.remoteAddress() instanceof InetSocketAddress a && a.getPort() == clientPort) {
            Connection c = (Connection) ch.pipeline().get(Connection.NAME);
            c.authenticate(new Identity(subject, Long.MAX_VALUE, null));
            shard.index().authenticated(c);
            return true;
          }
        }
        return false;
      }).get(30, TimeUnit.SECONDS);
      if (found) {
        return;
      }
    }
    throw new IllegalStateException("no connection from client port " + clientPort);
  }
}
