package io.odinws.ops;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.timeout.ReadTimeoutHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.odinws.config.OpsConfig;
import io.odinws.internal.VertxInternals;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.internal.ContextInternal;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

/**
 * The operations port ({@link OpsConfig}): the health and metrics routes of the public port on one
 * thread of their own, which accepts and serves. A shard's loop can be busy for a whole fan-out
 * (tens of milliseconds to 10,000 sockets) and behind by seconds when overloaded; a probe queued
 * behind that times out and gets a busy pod restarted. This thread is idle between requests, so the
 * kernel schedules it as soon as a probe arrives, whatever the shards are doing.
 */
public final class OpsServer {

  private static final Logger LOG = LoggerFactory.getLogger(OpsServer.class);
  private static final int IDLE_CLOSE_SECONDS = 30;

  private final OpsConfig config;
  private final PublicEndpoints endpoints;
  private EventLoopGroup group;
  private volatile int port = OpsConfig.OFF;

  public OpsServer(OpsConfig config, PublicEndpoints endpoints) {
    this.config = config;
    this.endpoints = endpoints;
  }

  /** Binds the port (a no-op when the configuration turns it off). */
  public Future<Void> start(Vertx vertx) {
    if (!config.enabled()) {
      return Future.succeededFuture();
    }
    group = VertxInternals.newEventLoopGroup(vertx, 1, new DefaultThreadFactory("odin-ops", true));
    // /health/ready runs vertx-health-check, which completes on the caller's context; called from a
    // thread without one it would make one on the next loop of Vert.x's pool, which may be a shard's
    Handler handler = new Handler(endpoints, VertxInternals.contextOn(vertx, group.next()));
    ServerBootstrap bootstrap = new ServerBootstrap()
        .group(group, group)
        .channelFactory(VertxInternals.serverChannelFactory(vertx))
        .option(ChannelOption.SO_REUSEADDR, true)
        .childOption(ChannelOption.TCP_NODELAY, true)
        .childHandler(new ChannelInitializer<>() {
          @Override
          protected void initChannel(Channel ch) {
            ch.pipeline().addLast(new ReadTimeoutHandler(IDLE_CLOSE_SECONDS), new HttpServerCodec(4096, 8192, 8192),
                new HttpObjectAggregator(8192), handler);
          }
        });
    Promise<Void> bound = Promise.promise();
    bootstrap.bind(config.host(), config.port()).addListener(f -> {
      if (f.isSuccess()) {
        port = ((InetSocketAddress) ((ChannelFuture) f).channel().localAddress()).getPort();
        LOG.info("event=ops_listening host={} port={} paths=\"/health /health/live /health/ready /metrics\"", config.host(), port);
        bound.complete();
      } else {
        group.shutdownGracefully();
        bound.fail(new IllegalStateException("cannot listen on " + config.host() + ":" + config.port() + " for operations: "
            + f.cause().getMessage() + " (is another process using the port? set ops.port or OPS_PORT, or -1 to serve "
            + "/health and /metrics on the public port only)", f.cause()));
      }
    });
    return bound.future();
  }

  /** The bound port, or -1 when off. */
  public int port() {
    return port;
  }

  /** Closes the port and its connections and stops the thread. */
  public Future<Void> close() {
    if (group == null) {
      return Future.succeededFuture();
    }
    Promise<Void> closed = Promise.promise();
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).addListener(f -> closed.complete());
    return closed.future();
  }

  /** The public port's routes, nothing else: 404 for other paths, 400 for a request that does not parse. */
  @ChannelHandler.Sharable
  private static final class Handler extends SimpleChannelInboundHandler<FullHttpRequest> {

    private final PublicEndpoints endpoints;
    private final ContextInternal context;

    Handler(PublicEndpoints endpoints, ContextInternal context) {
      this.endpoints = endpoints;
      this.context = context;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
      context.dispatch(() -> route(ctx, req)); // inline: this is the context's thread
    }

    private void route(ChannelHandlerContext ctx, FullHttpRequest req) {
      if (!req.decoderResult().isSuccess()) {
        OpsRoutes.respond(ctx, req, HttpResponseStatus.BAD_REQUEST, "text/plain", "Bad Request\n", false);
      } else if (!OpsRoutes.handle(ctx, req, endpoints)) {
        OpsRoutes.respond(ctx, req, HttpResponseStatus.NOT_FOUND, "text/plain",
            "Not Found (this port serves /health, /health/live, /health/ready and /metrics)\n", true);
      }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      ctx.close(); // a reset, a read timeout: nothing to answer
    }
  }
}
