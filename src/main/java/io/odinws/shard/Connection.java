package io.odinws.shard;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.PrematureChannelClosureException;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.ContinuationWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PongWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.handler.codec.http.websocketx.CorruptedWebSocketFrameException;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketCloseStatus;
import io.netty.util.ReferenceCountUtil;
import io.odinws.auth.Identity;
import io.odinws.auth.UserLimit;
import io.odinws.envelope.FrameEncoder;
import io.odinws.envelope.FrameHeader;
import io.odinws.envelope.OutboundMessage;
import io.odinws.internal.DirectSocket;
import io.odinws.internal.WriteVector;
import io.odinws.recovery.RecoveryGate;
import io.odinws.recovery.ReplayTarget;
import io.odinws.shard.admission.AddressHold;
import io.odinws.shard.admission.Admission;
import io.odinws.shard.admission.Decision;
import io.odinws.stats.DisconnectReason;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * One client socket on a shard, from accept to close: its state, its limits, its recovery gate, its
 * outbound frames and how it ends. The first handler of its pipeline. Touched only on the shard's
 * event loop: plain fields, and no other class writes them.
 *
 * <p>Fan-out frames wait in {@link #pending} until the shard's flush, which writes them straight to
 * the socket in one {@code send} or {@code writev} when Netty has nothing queued for it: no
 * duplicate, queue entry or reference count per delivery. Any other write (replies, replays, close
 * frames) first hands the pending frames to Netty's queue, so bytes leave in the order they were
 * written. A direct write skips the pipeline, so it is used only while this handler is the first
 * one: a handler added below it later (TLS, traffic shaping) gets every frame through Netty.
 */
final class Connection extends ChannelDuplexHandler implements ReplayTarget {

  static final String NAME = "conn";
  /** A payload up to this size is copied behind its header (one buffer); a larger one follows it (Netty's threshold). */
  private static final int COPY_PAYLOAD_MAX = 1024;
  /** Frames per direct {@code writev}; more go through Netty's queue (Linux IOV_MAX is 1,024). */
  static final int MAX_DIRECT_FRAMES = 1024;

  private static final Logger LOG = LoggerFactory.getLogger(Connection.class);
  /** A complete ping frame (FIN, opcode 9, empty, unmasked), shared by every connection. */
  private static final ByteBuf PING = Unpooled.unreleasableBuffer(Unpooled.directBuffer(2).writeByte(0x89).writeByte(0).asReadOnly());
  private static final long CLOSE_TIMEOUT_SECONDS = 2;
  /**
   * How long a connection that went over its inbound rate is not read: the bucket refills a second's worth meanwhile.
   * Timed from each connection's own drop, not from the sweep, so that paused flooders do not all come back at once.
   */
  private static final long READ_PAUSE_MILLIS = 1_000;
  /** The socket send buffer of a connection that receives {@code latest} channels (Linux doubles it); see {@link #fixSendBuffer}. */
  private static final int LATEST_SNDBUF = 64 * 1024;
  /** The whole answer to a socket refused at accept, before its request is read; shared by every connection. */
  private static final byte[] ACCEPT_REFUSED = refusalResponse(Admission.CONNECTIONS_REFUSED, false);

  private final ShardScope shard;
  private Channel channel;
  private ChannelHandlerContext ctx;
  /** The socket, for direct writes; null on transports without one (then every write goes through Netty). */
  private DirectSocket socket;
  /**
   * Inbound limits; null while rested (see {@link InboundLimiter#isRested}): most connections send a message
   * or two, then only listen, and need not keep one.
   */
  private InboundLimiter limiter;
  private long lastActivityNanos;
  /** Before the upgrade: when the socket was accepted or its last HTTP answer written, whichever is later. */
  private long httpSinceNanos;
  /** The per-address count this socket holds (see {@link Admission#accept}); released when it closes. */
  private final AddressHold hold = new AddressHold();
  /** The per-user count this connection holds once authenticated (null before); released when it closes. */
  private UserLimit.Hold userHold;
  private long lastPingNanos;
  /** A ping is due: the next fan-out write carries it, or the next sweep sends it alone (see {@link #ping}). */
  private boolean pingDue;
  private long upgradedAtNanos;
  /** The WebSocket handshake was answered; the frames written from above are encoded here, not by a handler of their own. */
  private boolean upgraded;
  /** A close was started: no more fan-out writes. */
  private boolean closing;
  /** permessage-deflate was negotiated at the upgrade: live messages go as their compressed frame when they have one. */
  private boolean deflate;
  /** Why the server or the client ended it; null until known. */
  private DisconnectReason disconnect;
  /** Written to since the last flush (the fan-out's dirty list holds it). */
  private boolean dirty;
  /** Inside a read of this socket: replies are flushed once, when the read completes. */
  private boolean reading;
  /** A reply was written in this read and waits for its end to be flushed. */
  private boolean replyUnflushed;
  /** The rate limit dropped a message of this read: reading pauses when the read ends. */
  private boolean droppedInRead;
  /**
   * Resumes reading {@link #READ_PAUSE_MILLIS} after a read in which the connection went over its inbound rate;
   * null until the first time. What it sends meanwhile waits in TCP's buffers, then meets a refilled bucket: a
   * flood is read about once a second instead of at every write.
   */
  private Runnable resumeReads;
  /** The fan-out stamp of the last message written here: one delivery per message despite wildcards. */
  private long deliveredStamp;
  /** Position in the shard's connection table, for O(1) removal; -1 once removed. */
  private int tableSlot = -1;
  /** Who the connection authenticated as; null while anonymous. */
  private Identity identity;
  /**
   * Subscribed channels and wildcards: null before the first, the name itself while it is the only one (most
   * clients hold one), a {@code Set<String>} from the second on.
   */
  private Object channels;
  /** Channels being recovered; null when none. */
  private RecoveryGate gate;
  /** When the outbound queue went over the high water mark (or the grace last restarted); 0 while under it. */
  private long slowSinceNanos;
  /** The most bytes queued since {@link #slowSinceNanos}, at flushes: less at the grace's end means the client is draining. */
  private long slowQueuedBytes;
  /** Over the high water mark, a live message of a {@code latest} channel was kept instead of queued. */
  private boolean conflatedWhileSlow;
  /** Over the high water mark, a live message of an {@code all} channel was queued: the grace applies as it always did. */
  private boolean queuedAllWhileSlow;
  /**
   * The newest pending message per {@code latest} channel while over the high water mark; null until the first.
   * Owns one reference per kept frame (see {@link KeptMessages}); written at the next drain, released at close.
   */
  private KeptMessages kept;
  /** A write of the kept messages is queued on the loop (see {@link #writeKept}). */
  private boolean keptWriteQueued;
  /** The socket's send buffer was fixed small for {@code latest} channels (see {@link #fixSendBuffer}). */
  private boolean sendBufferFixed;
  /**
   * Fan-out frames since the last flush, in order. Not owned: the fan-out holds one reference to each
   * frame until its flush has run. Null until the first.
   */
  private ByteBuf[] pending;
  private int pendingCount;

  Connection(ShardScope shard, long nowNanos) {
    this.shard = shard;
    this.lastActivityNanos = nowNanos;
    this.httpSinceNanos = nowNanos;
    this.lastPingNanos = nowNanos;
  }

  /** The connection of a channel whose pipeline a shard built. */
  static Connection of(ChannelHandlerContext ctx) {
    return (Connection) ctx.pipeline().get(NAME);
  }

  Channel channel() {
    return channel;
  }

  boolean isUpgraded() {
    return upgraded;
  }

  @Override
  public boolean isClosing() {
    return closing;
  }

  // ---- lifecycle ---------------------------------------------------------------------------

  /** Writes the 101 (a whole HTTP answer, which Netty releases once written) below the HTTP encoder; not flushed. */
  void writeUpgradeAnswer(ByteBuf answer) {
    ctx.write(answer, ctx.voidPromise());
  }

  /**
   * The handshake's answer is written, not flushed: the socket is a WebSocket from now on. Called inside the read of
   * the upgrade request; the answer goes out when the read ends, with what the read writes after it.
   */
  void onUpgraded() {
    if (closing) {
      return;
    }
    upgraded = true;
    upgradedAtNanos = System.nanoTime();
    replyUnflushed = true;
    // the first ping interval starts early by a share the table spreads over the shard's connections
    lastPingNanos = upgradedAtNanos - shard.table().upgraded(this, shard.policy().pingEveryNanos());
  }

  /** permessage-deflate was negotiated (set once, before the handshake's answer is written). */
  void deflateNegotiated() {
    deflate = true;
  }

  /** permessage-deflate is on: it is sent a message's compressed frame when it has one. */
  boolean deflates() {
    return deflate;
  }

  /** Who it authenticated as; null while anonymous. */
  Identity identity() {
    return identity;
  }

  /** The {@code sub} private records are matched against; null while anonymous. */
  @Override
  public String subject() {
    return identity == null ? null : identity.subject();
  }

  /** Who the connection is from now on: a first authentication, or a refresh for the same {@code sub}. */
  void authenticate(Identity who) {
    identity = who;
  }

  /**
   * Counts this connection against its user's limit, once: a refresh keeps the hold it has.
   *
   * @return false when the user already holds the most connections it may
   */
  boolean holdUser(UserLimit users, String subject) {
    if (userHold == null) {
      userHold = users.tryAcquire(subject);
    }
    return userHold != null;
  }

  int shardId() {
    return shard.id();
  }

  AddressHold hold() {
    return hold;
  }

  /** The TCP peer's address; null when the transport has none. */
  InetAddress peerAddress() {
    return channel.remoteAddress() instanceof InetSocketAddress inet ? inet.getAddress() : null;
  }

  /**
   * The socket was just accepted: counts it against its peer address, or, over that address's limit,
   * answers 429 without reading the request and closes.
   */
  void accepted(Admission admission) {
    Decision decision = admission.accept(peerAddress(), hold);
    if (!decision.admitted()) {
      shard.stats().handshakeFailed(); // a refused upgrade, as in ws_connections_failed's README line
      LOG.debug("event=connection_refused shard={} remote={} reason={}", shard.id(), channel.remoteAddress(), decision.reason());
      closing = true; // what the client sends meanwhile is dropped (see channelRead)
      channel.eventLoop().execute(() -> refuse(ACCEPT_REFUSED)); // after the registration that runs this
    }
  }

  /**
   * Answers a refused request with {@code response}, a whole HTTP response (see {@link #refusalResponse}), and closes;
   * what the client sends meanwhile is dropped.
   */
  void refuse(byte[] response) {
    closing = true;
    // From here, below the HTTP encoder; in a buffer of its own, which Netty releases once written.
    ctx.writeAndFlush(ctx.alloc().buffer(response.length).writeBytes(response)).addListener(ChannelFutureListener.CLOSE);
  }

  /**
   * Sends a refused request's answer after {@code delayMillis} (see {@code Admission.refusalDelayMillis}), unless the
   * client has gone by then; what it sends meanwhile is dropped, and the socket keeps its place in the address's
   * count until it closes.
   */
  void answerLater(long delayMillis, Runnable answer) {
    closing = true;
    channel.eventLoop().schedule(() -> {
      if (channel.isActive()) {
        answer.run();
      }
    }, delayMillis, TimeUnit.MILLISECONDS);
  }

  long upgradedAtNanos() {
    return upgradedAtNanos;
  }

  /** Why it ended, for the metrics; known once the socket is closed. */
  DisconnectReason disconnectReason() {
    return disconnect != null ? disconnect : DisconnectReason.CONNECTION_LOST;
  }

  int tableSlot() {
    return tableSlot;
  }

  /** The connection table moved this connection to {@code slot} (-1: removed). */
  void tableSlot(int slot) {
    tableSlot = slot;
  }

  // ---- closing -----------------------------------------------------------------------------

  /** Sends a close frame, then closes the socket once it is written (or after 2 s if it cannot be). */
  void close(Disconnect why) {
    if (closing) {
      return;
    }
    closing = true;
    disconnect = why.label();
    Channel ch = channel;
    ChannelFuture written = ch.writeAndFlush(new CloseWebSocketFrame(why.code(), why.reason()));
    if (written.isDone()) {
      ch.close(); // the socket took it (the usual case), or the write failed: no listener, no timer per socket
      return;
    }
    written.addListener(ChannelFutureListener.CLOSE);
    ch.eventLoop().schedule(() -> {
      ch.close();
    }, CLOSE_TIMEOUT_SECONDS, TimeUnit.SECONDS);
  }

  /**
   * The client started the closing handshake: echo its code (RFC 6455 5.5.1) and close. A close
   * without a code ({@code statusCode} -1) gets an empty close: its code reads as 1005, which no
   * frame may carry (7.4.1). The caller has checked that the code is valid to send.
   */
  void closeEcho(int statusCode) {
    if (closing) {
      return;
    }
    closing = true;
    disconnect = DisconnectReason.CLIENT_CLOSE;
    CloseWebSocketFrame reply = statusCode > 0 ? new CloseWebSocketFrame(statusCode, null) : new CloseWebSocketFrame();
    channel.writeAndFlush(reply).addListener(ChannelFutureListener.CLOSE);
  }

  /** Ends the connection the way it is: a close handshake once upgraded, else the socket alone. */
  void end(Disconnect why) {
    if (upgraded) {
      close(why);
    } else {
      abort();
    }
  }

  /** Closes the socket without a WebSocket close handshake. */
  void abort() {
    closing = true;
    channel.close();
  }

  /** An exception on this connection closes this connection only. */
  void onError(Throwable cause) {
    if (cause instanceof IOException || cause instanceof CorruptedWebSocketFrameException || cause instanceof PrematureChannelClosureException) {
      // peer reset or gone mid-message, or a decoder exception (before the upgrade; after it, WebSocketHandler answers protocol violations)
      LOG.debug("event=connection_closed_on_error shard={} remote={} error=\"{}\"", shard.id(), channel.remoteAddress(), cause.toString());
      if (disconnect == null) {
        disconnect = cause instanceof CorruptedWebSocketFrameException corrupted
            ? (corrupted.closeStatus() == WebSocketCloseStatus.MESSAGE_TOO_BIG ? DisconnectReason.MESSAGE_TOO_BIG : DisconnectReason.PROTOCOL_ERROR)
            : DisconnectReason.CONNECTION_LOST;
      }
      channel.close();
      return;
    }
    shard.stats().connectionError();
    LOG.warn("event=connection_error shard={} remote={} error=\"{}\" action=\"connection closed with 1011; the shard continues\"",
        shard.id(), channel.remoteAddress(), cause.toString(), cause);
    end(Disconnect.INTERNAL_ERROR);
  }

  private void closeSlow(String why) {
    shard.stats().slowClientClosed();
    LOG.info("event=slow_client_closed shard={} remote={} queued_bytes={} queued_peak_bytes={} kept={} conflated={} queued_all={} "
        + "ms_since_data_sent={} slow_for_ms={} why=\"{}\"", shard.id(), channel.remoteAddress(), queuedBytes(), slowQueuedBytes,
        kept == null ? 0 : kept.size(), conflatedWhileSlow, queuedAllWhileSlow, DirectSocket.millisSinceDataSent(channel),
        slowSinceNanos == 0 ? 0 : TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - slowSinceNanos), why);
    close(Disconnect.SLOW);
  }

  // ---- timers ------------------------------------------------------------------------------

  /**
   * The shard's once-a-second sweep: closes this connection if it never upgraded, floods, stays
   * slow or idle; else pings it when due.
   */
  void tick(long now, ConnectionPolicy policy) {
    if (closing) {
      return;
    }
    if (!upgraded) {
      // From accept or the last answer, not the last byte: a trickle of header bytes does not extend it.
      if (now - httpSinceNanos > policy.handshakeWithinNanos()) {
        shard.stats().handshakeTimedOut();
        LOG.debug("event=handshake_timeout shard={} remote={}", shard.id(), channel.remoteAddress());
        abort();
      }
      return;
    }
    long idle = now - lastActivityNanos;
    Disconnect unauthenticated = shard.auth().due(this, now);
    if (unauthenticated != null) {
      LOG.debug("event=connection_closed_unauthenticated shard={} remote={} reason={}", shard.id(), channel.remoteAddress(),
          unauthenticated.label().label);
      close(unauthenticated);
    } else if (limiter != null && limiter.flooding()) {
      LOG.info("event=flooding_client_closed shard={} remote={}", shard.id(), channel.remoteAddress());
      close(Disconnect.flooding(policy.floodThreshold()));
    } else if (slowSinceNanos != 0 && now - slowSinceNanos > policy.slowGraceNanos() && !conflatingAndDraining(now)) {
      closeSlow("over the high water mark for the grace period");
    } else if (idle > policy.idleAfterNanos()) {
      close(Disconnect.IDLE);
    } else {
      ping(now, policy);
    }
    if (limiter != null && limiter.isRested(now)) {
      limiter = null;
    }
  }

  /**
   * A ping comes due here and goes out with the connection's next fan-out frames, in the same syscall (see
   * {@link #offer}), not as a syscall of its own at the sweep; a connection that got no fan-out write by the next
   * sweep gets it on its own then.
   */
  private void ping(long now, ConnectionPolicy policy) {
    if (pingDue) {
      pingDue = false;
      ctx.writeAndFlush(PING.duplicate(), ctx.voidPromise());
    }
    if (now - lastPingNanos >= policy.pingEveryNanos()) {
      lastPingNanos = now;
      pingDue = true;
    }
  }

  /**
   * At the end of a grace period: a connection over its high water mark only because of {@code latest} traffic
   * (it conflated, and queued no message of an {@code all} channel meanwhile) that keeps draining gets a new grace
   * period. Draining: the kernel sent its socket new data during the period (the client's window opened: it
   * reads), or else our queue shrank. The kernel's send buffer takes from our queue only once a third of it is
   * free, so with megabytes of it a client that reads slowly leaves our queue still for a long while.
   */
  private boolean conflatingAndDraining(long now) {
    if (!conflatedWhileSlow || queuedAllWhileSlow) {
      return false;
    }
    long queued = queuedBytes();
    long sinceSent = DirectSocket.millisSinceDataSent(channel);
    boolean draining = sinceSent >= 0 && TimeUnit.MILLISECONDS.toNanos(sinceSent) < now - slowSinceNanos || queued < slowQueuedBytes;
    if (!draining) {
      return false;
    }
    slowSinceNanos = now;
    slowQueuedBytes = queued;
    return true;
  }

  // ---- inbound -----------------------------------------------------------------------------

  /** One inbound message against the rate limit, at the time of the read that carried it (no clock read per message). */
  InboundLimiter.Verdict admit() {
    if (limiter == null) {
      limiter = new InboundLimiter(shard.policy(), lastActivityNanos);
    }
    return dropped(limiter.admit(lastActivityNanos));
  }

  /**
   * A message not decoded yet: {@link #admit}'s drop when the rate limit has no token for it now; otherwise PASS,
   * with nothing taken (it is admitted when decoded). A connection with no limiter has a full bucket.
   */
  InboundLimiter.Verdict dropIfOverRate() {
    return limiter == null ? InboundLimiter.Verdict.PASS : dropped(limiter.dropIfOver(lastActivityNanos));
  }

  private InboundLimiter.Verdict dropped(InboundLimiter.Verdict verdict) {
    if (verdict != InboundLimiter.Verdict.PASS) {
      droppedInRead = true;
    }
    return verdict;
  }

  // ---- subscriptions (kept in step with the shard's SubscriptionIndex, which calls these) -----

  boolean isSubscribed(String channel) {
    Object held = channels;
    return held instanceof String one ? one.equals(channel) : held != null && set(held).contains(channel);
  }

  int subscriptionCount() {
    Object held = channels;
    return held == null ? 0 : held instanceof String ? 1 : set(held).size();
  }

  /** @return false when already subscribed */
  boolean addChannel(String name) {
    Object held = channels;
    if (held == null) {
      channels = name;
      return true;
    }
    if (held instanceof String one) {
      if (one.equals(name)) {
        return false;
      }
      Set<String> all = new HashSet<>(4);
      all.add(one);
      all.add(name);
      channels = all;
      return true;
    }
    return set(held).add(name);
  }

  /** @return false when not subscribed */
  boolean removeChannel(String name) {
    Object held = channels;
    if (held instanceof String one) {
      if (!one.equals(name)) {
        return false;
      }
      channels = null;
    } else if (held == null || !set(held).remove(name)) {
      return false;
    }
    if (kept != null) {
      // a kept message no subscription covers any more is not sent after the unsubscribe_ack
      int dropped = kept.releaseIf(keys -> !isSubscribed(keys.channel()) && !isSubscribed(keys.tokenWildcard())
          && !isSubscribed(keys.categoryWildcard()));
      shard.fanOut().keptChanged(-dropped);
    }
    return true;
  }

  /** Every subscribed channel, read-only (the index re-indexes them at authentication). */
  Set<String> channels() {
    Object held = channels;
    return held == null ? Set.of() : held instanceof String one ? Set.of(one) : Collections.unmodifiableSet(set(held));
  }

  /** Every subscribed channel, now forgotten here. */
  Set<String> takeChannels() {
    Object held = channels;
    channels = null;
    return held == null ? Set.of() : held instanceof String one ? Set.of(one) : set(held);
  }

  @SuppressWarnings("unchecked")
  private static Set<String> set(Object held) {
    return (Set<String>) held;
  }

  // ---- fan-out (called by FanOut) ----------------------------------------------------------

  /** @return false when {@code stamp} already reached this connection through another subscription key */
  boolean firstDelivery(long stamp) {
    if (deliveredStamp == stamp) {
      return false;
    }
    deliveredStamp = stamp;
    return true;
  }

  /**
   * Queues a live message for the next flush, unless the connection is closing or the recovery gate
   * holds it. Takes no reference: the fan-out holds one per message until the flush. A message of a
   * {@code latest} channel is kept instead while the connection is over its high water mark (see
   * {@link #conflate}).
   *
   * @param latest the message's category is delivered {@code latest}
   * @return true when queued
   */
  boolean offer(OutboundMessage m, boolean latest) {
    if (closing) {
      return false;
    }
    if (gate != null) {
      boolean passes = gate.passes(m);
      if (gate.isEmpty()) {
        gate = null;
      }
      if (!passes) {
        return false;
      }
    }
    if (latest && !sendBufferFixed) {
      fixSendBuffer();
    }
    // slowSinceNanos is set exactly while Netty's queue is over the high water mark (see channelWritabilityChanged)
    boolean slow = slowSinceNanos != 0;
    if (slow || kept != null && !kept.isEmpty() && kept.contains(m.channel())) {
      if (latest) {
        conflate(m);
        return false;
      }
      queuedAllWhileSlow |= slow;
    }
    int frames = pingDue ? 2 : 1;
    if (pending == null) {
      pending = new ByteBuf[4];
    } else if (pendingCount + frames > pending.length) {
      pending = Arrays.copyOf(pending, pending.length * 2);
    }
    pending[pendingCount++] = deflate && m.deflated() != null ? m.deflated() : m.frame();
    if (pingDue) {
      pingDue = false;
      pending[pendingCount++] = PING; // unreleasable and never written to: shared as it is
    }
    return true;
  }

  /**
   * Over the high water mark: {@code m} becomes its channel's kept message, replacing (and releasing) an older
   * one, written once the socket drains. Also while a kept message of its channel waits for that write, so
   * a channel's messages stay in order.
   */
  private void conflate(OutboundMessage m) {
    if (kept == null) {
      kept = new KeptMessages();
    }
    if (kept.keep(m)) {
      shard.fanOut().conflated();
    } else {
      shard.fanOut().keptChanged(1);
    }
    conflatedWhileSlow = true;
    if (slowSinceNanos == 0) {
      queueKeptWrite(); // drained meanwhile: its write is due
    }
  }

  /**
   * Linux grows a socket's send buffer to megabytes on its own (autotuning), and a slow reader reads all of it before
   * any kept value: conflation would keep it connected but not current. Fixed small before the first {@code latest}
   * message is written, while the buffer is still empty.
   */
  private void fixSendBuffer() {
    sendBufferFixed = true;
    channel.config().setOption(ChannelOption.SO_SNDBUF, LATEST_SNDBUF);
  }

  private void queueKeptWrite() {
    if (!keptWriteQueued) {
      keptWriteQueued = true;
      // a task of its own: the drain that calls for it may run inside Netty's flush, where a flush does nothing
      channel.eventLoop().execute(this::writeKept);
    }
  }

  /**
   * The socket drained: writes each kept message once, after what is pending, with {@code "skipped":N} when it
   * replaced older ones (a frame for this connection only) or else the shared frame.
   */
  private void writeKept() {
    keptWriteQueued = false;
    if (closing || kept == null || kept.isEmpty() || !channel.isWritable()) {
      return; // closing: released at channelInactive; over the mark again: the next drain writes them
    }
    drainPending();
    long[] sent = new long[2]; // messages, bytes
    int n = kept.takeAll((message, skipped) -> {
      ByteBuf shared = message.frame();
      if (gate != null && !gate.passes(message)) {
        // its channel is being recovered since: the replay covers it, or the gate holds it (with its own reference)
        shared.release();
        return;
      }
      ByteBuf frame;
      if (skipped > 0) {
        frame = FrameEncoder.skippedOf(shared, skipped, ctx.alloc());
        shared.release();
      } else {
        frame = shared.duplicate(); // carries the kept reference to Netty, which releases it once written
      }
      sent[0]++;
      sent[1] += frame.readableBytes();
      ctx.write(frame, ctx.voidPromise());
    });
    if (gate != null && gate.isEmpty()) {
      gate = null;
    }
    shard.fanOut().keptChanged(-n);
    shard.stats().addSent(sent[0], sent[1]);
    ctx.flush();
  }

  /** Kept messages waiting for the socket to drain (for tests and the operator). */
  int keptCount() {
    return kept == null ? 0 : kept.size();
  }

  /** @return true the first time since the fan-out's last flush: the caller adds it to its dirty list */
  boolean markDirty() {
    if (dirty) {
      return false;
    }
    dirty = true;
    return true;
  }

  /** The fan-out's flush: off its dirty list, then {@link #flush(WriteVector)}. */
  void flushFanOut(WriteVector vector) {
    dirty = false;
    flush(vector);
  }

  /**
   * Sends the pending frames and flushes, then applies the hard cap. Straight to the socket when
   * Netty holds nothing for it; what the socket does not take (its buffer is full) goes to Netty's
   * queue, which then waits for the socket to drain and drives writability (the slow-client limits)
   * as for any write.
   *
   * @param vector the shard's scratch vector for {@code writev}; null once the shard has stopped
   */
  void flush(WriteVector vector) {
    if (pendingCount > 0) {
      if (socket != null && vector != null && pendingCount <= MAX_DIRECT_FRAMES && channel.isActive()
          && ctx.pipeline().first() == this && queuedBytes() == 0) {
        if (writeDirect(vector)) {
          return; // everything is in the socket, and Netty had nothing to flush
        }
      } else {
        drainPending();
      }
    }
    ctx.flush();
    if (slowSinceNanos != 0) {
      long queued = queuedBytes();
      if (queued > shard.policy().hardCapBytes()) {
        closeSlow("queued over the hard cap");
      }
      slowQueuedBytes = Math.max(slowQueuedBytes, queued);
      shard.stats().slowQueued(queued);
    }
  }

  /** @return true if the socket took every pending frame */
  private boolean writeDirect(WriteVector vector) {
    ByteBuf[] frames = pending;
    int count = pendingCount;
    long total = 0;
    if (count > 1) {
      vector.clear();
    }
    for (int i = 0; i < count; i++) {
      ByteBuf f = frames[i];
      // one frame (the usual case) needs no vector entry: it goes by send(2)
      if (!f.hasMemoryAddress() || count > 1 && !vector.add(f)) {
        drainPending(); // a heap frame: Netty's path
        return false;
      }
      total += f.readableBytes();
    }
    long written;
    try {
      // send(2) for one frame, as Netty does (write(2) also runs the VFS layer), writev(2) for several
      written = count == 1 ? socket.send(frames[0]) : socket.writev(vector);
    } catch (IOException e) {
      clearPending(); // the peer is gone (reset, broken pipe): close as Netty does on a failed write
      if (disconnect == null) {
        disconnect = DisconnectReason.CONNECTION_LOST;
      }
      channel.close();
      return true;
    }
    if (written == total) {
      clearPending();
      return true;
    }
    // The socket's buffer is full: the unwritten rest, in order, to Netty's queue.
    for (int i = 0; i < count; i++) {
      ByteBuf f = frames[i];
      int len = f.readableBytes();
      if (written >= len) {
        written -= len;
      } else {
        ctx.write(f.retainedSlice(f.readerIndex() + (int) written, len - (int) written), ctx.voidPromise());
        written = 0;
      }
      frames[i] = null;
    }
    pendingCount = 0;
    return false;
  }

  /** Hands the pending frames to Netty's queue, each as its own retained duplicate. */
  private void drainPending() {
    for (int i = 0; i < pendingCount; i++) {
      ctx.write(pending[i].retainedDuplicate(), ctx.voidPromise());
      pending[i] = null;
    }
    pendingCount = 0;
  }

  private void clearPending() {
    if (pendingCount > 0) {
      Arrays.fill(pending, 0, pendingCount, null);
      pendingCount = 0;
    }
  }

  /** Bytes queued for this socket and not yet written to it. */
  long queuedBytes() {
    return DirectSocket.queuedBytes(channel);
  }

  // ---- recovery (ReplayTarget) -------------------------------------------------------------

  @Override
  public RecoveryGate gate() {
    if (gate == null) {
      gate = new RecoveryGate();
    }
    return gate;
  }

  @Override
  public void writeFrame(ByteBuf frame) {
    drainPending();
    ctx.write(frame, ctx.voidPromise());
  }

  @Override
  public void flush() {
    flush(shard.fanOut().vector());
  }

  /**
   * From the pipeline's tail: the WebSocket encoder sits above this handler. Within a read, the flush waits for the
   * read's end, so requests that arrived together are answered with one write to the socket.
   */
  @Override
  public void reply(String json) {
    reply(new TextWebSocketFrame(json));
  }

  /** For replies written straight into a buffer: the socket's allocator. */
  public ByteBufAllocator alloc() {
    return ctx.alloc();
  }

  /** {@link #reply(String)} for a reply already in a buffer (UTF-8 JSON), which this takes over. */
  public void reply(ByteBuf json) {
    reply(new TextWebSocketFrame(json));
  }

  private void reply(TextWebSocketFrame frame) {
    // a void promise: nothing waits on a reply, and a failed write closes the socket anyway
    if (reading) {
      replyUnflushed = true;
      channel.write(frame, channel.voidPromise());
    } else {
      channel.writeAndFlush(frame, channel.voidPromise());
    }
  }

  // ---- Netty -------------------------------------------------------------------------------

  /** Writes from the handlers above (replies, pongs, close frames) go after the pending frames. */
  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
    if (!upgraded) {
      // Before the upgrade only HTTP answers are written (encoded: this handler is nearest the socket),
      // each for a complete request: the handshake deadline starts again.
      httpSinceNanos = System.nanoTime();
    }
    drainPending();
    if (upgraded && msg instanceof WebSocketFrame frame) {
      writeEncoded(ctx, frame, promise);
    } else {
      ctx.write(msg, promise);
    }
  }

  /**
   * A WebSocket frame as Netty's server encoder writes it (RFC 6455 5.2, unmasked): header, then the payload,
   * copied into the header's buffer up to {@link #COPY_PAYLOAD_MAX} bytes. Releases {@code frame}.
   */
  private static void writeEncoded(ChannelHandlerContext ctx, WebSocketFrame frame, ChannelPromise promise) {
    try {
      int opcode = opcode(frame);
      ByteBuf data = frame.content();
      int length = data.readableBytes();
      int header = FrameHeader.length(length);
      boolean copy = length <= COPY_PAYLOAD_MAX;
      ByteBuf buf = ctx.alloc().buffer(copy ? header + length : header);
      FrameHeader.write(buf, (frame.isFinalFragment() ? 0x80 : 0) | (frame.rsv() % 8) << 4 | opcode, length);
      if (copy && data.hasArray()) {
        // from the array: copying from a heap buffer as a ByteBuf wraps and slices NIO buffers on every call
        buf.writeBytes(data.array(), data.arrayOffset() + data.readerIndex(), length);
        ctx.write(buf, promise);
      } else if (copy) {
        buf.writeBytes(data, data.readerIndex(), length);
        ctx.write(buf, promise);
      } else {
        ctx.write(Unpooled.wrappedBuffer(buf, data.retainedSlice()), promise);
      }
    } catch (RuntimeException e) {
      promise.tryFailure(e);
    } finally {
      frame.release();
    }
  }

  private static int opcode(WebSocketFrame frame) {
    if (frame instanceof TextWebSocketFrame) {
      return 0x1;
    } else if (frame instanceof CloseWebSocketFrame) {
      return 0x8;
    } else if (frame instanceof PongWebSocketFrame) {
      return 0xA;
    } else if (frame instanceof PingWebSocketFrame) {
      if (frame.content().readableBytes() > 125) {
        throw new TooLongFrameException("invalid payload for PING (payload length must be <= 125, was "
            + frame.content().readableBytes() + ")");
      }
      return 0x9;
    } else if (frame instanceof BinaryWebSocketFrame) {
      return 0x2;
    } else if (frame instanceof ContinuationWebSocketFrame) {
      return 0x0;
    }
    throw new UnsupportedOperationException("Cannot encode frame of type: " + frame.getClass().getName());
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
    this.channel = ctx.channel();
    this.socket = DirectSocket.of(channel);
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (closing && !upgraded) {
      ReferenceCountUtil.release(msg); // refused or timed out: its request is not served
      return;
    }
    lastActivityNanos = System.nanoTime(); // data, ping and pong frames alike
    if (msg instanceof ByteBuf bytes) {
      shard.table().received(bytes.readableBytes());
    }
    reading = true;
    ctx.fireChannelRead(msg);
  }

  /** Netty fires it after every read loop, an exception's included: the replies of the read go out together. */
  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    reading = false;
    if (replyUnflushed) {
      replyUnflushed = false;
      channel.flush();
    }
    if (droppedInRead) {
      droppedInRead = false;
      if (!closing) {
        if (resumeReads == null) {
          resumeReads = () -> channel.config().setAutoRead(true);
        }
        channel.config().setAutoRead(false);
        channel.eventLoop().schedule(resumeReads, READ_PAUSE_MILLIS, TimeUnit.MILLISECONDS);
      }
    }
    ctx.fireChannelReadComplete();
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    if (channel.isWritable()) {
      slowSinceNanos = 0;
      conflatedWhileSlow = false;
      queuedAllWhileSlow = false;
      if (kept != null && !kept.isEmpty()) {
        queueKeptWrite();
      }
    } else if (slowSinceNanos == 0) {
      slowSinceNanos = System.nanoTime();
      slowQueuedBytes = queuedBytes();
    }
    ctx.fireChannelWritabilityChanged();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    closing = true;
    clearPending();
    if (kept != null) {
      shard.fanOut().keptChanged(-kept.releaseAll());
    }
    if (gate != null) {
      gate.discard();
      gate = null;
    }
    hold.release();
    if (userHold != null) {
      userHold.release();
    }
    shard.table().closed(this);
    ctx.fireChannelInactive();
  }

  /** A refusal as sent: status line, headers and body ({@code head}: none, as the answer to a HEAD request). */
  static byte[] refusalResponse(Decision d, boolean head) {
    byte[] body = (d.body() + "\n").getBytes(StandardCharsets.UTF_8);
    byte[] headers = ("HTTP/1.1 " + d.status() + " " + HttpResponseStatus.valueOf(d.status()).reasonPhrase() + "\r\n"
        + "content-type: text/plain; charset=utf-8\r\n"
        + "content-length: " + body.length + "\r\n"
        + "cache-control: no-store\r\n"
        + (d.retryAfterSeconds() > 0 ? "retry-after: " + d.retryAfterSeconds() + "\r\n" : "")
        + "connection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
    if (head) {
      return headers;
    }
    byte[] all = Arrays.copyOf(headers, headers.length + body.length);
    System.arraycopy(body, 0, all, headers.length, body.length);
    return all;
  }
}
