package io.odinws.shard;

import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.odinws.bus.FrameBatch;
import io.odinws.config.OdinConfig;
import io.odinws.envelope.RecordOwners;
import io.odinws.recovery.Recoveries;
import io.odinws.shard.admission.Admission;
import io.odinws.stats.ShardStats;
import io.vertx.core.Promise;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One shard's parts, wired: its connections, subscription index, fan-out, recoveries and the
 * handlers of its sockets' pipelines. Knows nothing of Vert.x deployment ({@link ShardVerticle}
 * drives it), so tests can run it on any event loop. Everything but {@link #shed} runs on {@code loop}.
 */
final class Shard {

  private static final Logger LOG = LoggerFactory.getLogger(Shard.class);

  private final int id;
  private final EventLoop loop;
  private final ShardStats stats = new ShardStats();
  private final SubscriptionIndex index;
  private final ConnectionPolicy policy;
  private final ConnectionTable table;
  private final FanOut fanOut;
  private final ShardScope scope;
  private final HttpHandler httpHandler;
  private final WriteBufferWaterMark waterMark;
  private final Admission admission;
  /** Set while an overload close of every client is scheduled (see {@link #shed}). */
  private final AtomicBoolean shedding = new AtomicBoolean();

  Shard(int id, OdinConfig config, ShardServices services, EventLoop loop) {
    this.id = id;
    this.loop = loop;
    this.index = new SubscriptionIndex(stats, 
        RecordOwners.of(config.auth().effectivePrivateTopics()).privateCategories(config.kafka().topics()));
    this.policy = ConnectionPolicy.of(config.ws(), config.limits());
    this.table = new ConnectionTable(stats, services.meters(), index);
    this.fanOut = new FanOut(index, stats, services.meters(), loop, config.ws().flushDelayMicros(),
        config.delivery().latestCategoryKeys());
    Authenticator auth = new Authenticator(services.auth(), index);
    this.scope = new ShardScope(id, stats, policy, table, fanOut, auth);
    Recoveries recoveries = new Recoveries(services.history(), services.kafkaReplay(), config.recovery(),
        config.kafka().topics(), stats, loop);
    RequestHandler requests = new RequestHandler(index, stats, config.ws(), policy, config.kafka().topics(), recoveries, auth);
    this.httpHandler = new HttpHandler(stats, requests, new WebSocketHandler(requests, config.ws().maxMessageBytes()), config.ws(), services.endpoints(), services.admission(), auth,
        services.deflate());
    this.admission = services.admission();
    int high = config.limits().outboundHighWaterBytes();
    this.waterMark = new WriteBufferWaterMark(high / 2, high);
  }

  ShardStats stats() {
    return stats;
  }

  /** The shard's subscriptions (the authentication flow re-indexes a connection that authenticated). */
  SubscriptionIndex index() {
    return index;
  }

  /** The HTTP handlers' names, which the upgrade replaces (see {@link HttpHandler}). */
  static final String HTTP_CODEC = "http";
  static final String HTTP_AGGREGATOR = "http-aggregator";

  /** Builds an accepted socket's pipeline: the connection first, then HTTP until the upgrade. */
  void initChannel(Channel ch) {
    Connection c = new Connection(scope, System.nanoTime());
    ch.config().setWriteBufferWaterMark(waterMark);
    ch.pipeline().addLast(Connection.NAME, c)
        .addLast(HTTP_CODEC, new HttpServerCodec(4096, 8192, 8192))
        .addLast(HTTP_AGGREGATOR, new HttpObjectAggregator(8192))
        .addLast("http-handler", httpHandler);
    table.add(c);
    c.accepted(admission);
  }

  void onBatch(FrameBatch batch) {
    fanOut.onBatch(batch);
  }

  /** Once a second: liveness, the received-bytes counter, and every connection's timers. */
  void sweep() {
    long now = System.nanoTime();
    stats.progressed(now); // liveness: this loop still runs its tasks
    table.sweep(now, policy);
  }

  /**
   * The bus dropped a batch: this shard is too far behind and its clients would miss messages, so
   * each is closed with 1012 to reconnect (to a less loaded shard or instance) and recover what it
   * missed. Called on the publishing thread; the closing hops to the loop.
   */
  void shed(int maxQueuedBatches) {
    stats.droppedBatch();
    if (shedding.compareAndSet(false, true)) {
      LOG.warn("event=shard_overloaded shard={} action=\"over {} batches behind: clients closed with 1012 to reconnect and recover\"",
          id, maxQueuedBatches);
      loop.execute(() -> {
        table.closeWebSockets(Disconnect.OVERLOAD);
        shedding.set(false);
      });
    }
  }

  /** Ends every connection with {@code why}; {@code done} completes when the last has closed. */
  void drain(Disconnect why, Promise<Void> done) {
    table.drain(why, done);
  }

  /** Closes every socket at once and releases what the fan-out holds. */
  void stop() {
    table.closeWebSockets(Disconnect.SHUTDOWN);
    table.closeSockets(); // the event loop outlives the shard: leave no socket behind
    fanOut.stop();
  }

  List<Channel> channels() {
    return table.channels();
  }
}
