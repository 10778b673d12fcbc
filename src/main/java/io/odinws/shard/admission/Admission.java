package io.odinws.shard.admission;

import io.odinws.ratelimit.HeldCounts;

import io.odinws.ratelimit.TokenBucket;

import io.odinws.config.AdmissionConfig;

import java.net.InetAddress;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;

/**
 * Decides, before the WebSocket upgrade, whether a request may become a connection (PROTOCOL.md section 7).
 * Called by every shard's event loop concurrently: it never blocks, holds no lock, and on the admit path (and
 * on refusals of known IPs) allocates nothing.
 *
 * <p>Order of checks, cheapest and most final first:
 * <ol>
 *   <li>Origin allow-list: 403, a retry would not help.</li>
 *   <li>Resource guard: 503 with Retry-After 5; when the process is short of CPU or heap, even a client within
 *       its rate must wait. Not gated by {@code enabled}.</li>
 *   <li>Sockets per client address, for a socket not counted at {@link #accept} (its peer is a trusted proxy):
 *       429 with Retry-After 5. Not gated by {@code enabled}.</li>
 *   <li>If {@code enabled}: the per-IP bucket (skipped for an exempt loopback client), then the global bucket. Per-IP first, so that an abusive IP is
 *       stopped by its own bucket and never spends global tokens that other clients need. If the IP is
 *       admitted but the global bucket is empty, the IP's token is refunded: the attempt did not become a
 *       connection, so it should not count against that IP.</li>
 * </ol>
 *
 * <p>Bounded memory: per-IP buckets live in a map that {@link #evictIdle} prunes of full (idle) buckets. Past
 * {@code maxTrackedIps} entries (a many-IP storm), new IPs are not refused and not left unlimited: they are
 * hashed onto a fixed array of {@value #OVERFLOW_STRIPES} shared buckets. Refusing them would lock every new
 * honest client out for the length of the storm; exempting them would let the storm's sources go unthrottled
 * individually. With stripes each source is still throttled, at worst together with the few IPs sharing its
 * stripe, memory stays fixed, and the global bucket still caps the total in every case.
 *
 * <p>Per-address concurrency ({@code ipMaxConnections}): each socket counts against one address, from accept to
 * close. A socket from an untrusted peer counts against that peer from {@link #accept} on, so sockets that never
 * upgrade (slow-loris, half-open) are bounded per address too. A socket from a trusted proxy is not counted at
 * accept (the proxy carries many clients, and bounds the headers it waits for itself); it counts against the
 * client the proxy forwards for from {@link #check} on, once {@code X-Forwarded-For} has been read. With
 * {@code exemptLoopback}, a loopback client address (the resolved one: a loopback proxy does not exempt the
 * remote client it forwards for) skips the per-address rate and concurrency limits, not the global rate.
 */
public final class Admission {

  /** Metric labels of refusals. */
  public static final List<String> REASONS = List.of("origin", "cpu", "heap", "global_rate", "ip_rate", "ip_connections");
  public static final int DEFAULT_MAX_TRACKED_IPS = 100_000;
  static final int OVERFLOW_STRIPES = 4096;

  private static final int ORIGIN = 0;
  private static final int CPU = 1;
  private static final int HEAP = 2;
  private static final int GLOBAL_RATE = 3;
  private static final int IP_RATE = 4;
  private static final int IP_CONNECTIONS = 5;

  private static final int OVERLOAD_RETRY_SECONDS = 5;
  private static final String RATE_BODY = "Rate limit exceeded";
  /** Rate refusals with Retry-After 1..60 are preallocated, so a flood of refusals allocates nothing either. */
  private static final int CACHED_RETRY_SECONDS = 60;

  private static final Decision ORIGIN_REFUSED = new Decision(403, "Origin not allowed", 0, "origin");
  private static final Decision CPU_REFUSED = new Decision(503, "Server overloaded", OVERLOAD_RETRY_SECONDS, "cpu");
  private static final Decision HEAP_REFUSED =
      new Decision(503, "Server overloaded", OVERLOAD_RETRY_SECONDS, "heap");
  /** A slot frees when one of the address's own sockets closes, which nobody can predict: the overload wait. */
  public static final Decision CONNECTIONS_REFUSED =
      new Decision(429, "Too many connections from this address", OVERLOAD_RETRY_SECONDS, "ip_connections");
  private static final Decision[] GLOBAL_REFUSED = rateRefusals("global_rate");
  private static final String IP_RATE_REASON = "ip_rate";
  private static final Decision[] IP_REFUSED = rateRefusals(IP_RATE_REASON);

  /** Key for a request whose peer address is unknown; all such requests share one bucket. */
  private static final InetAddress UNKNOWN_PEER = unspecifiedAddress();

  private final boolean enabled;
  private final int ipBurst;
  private final double ipPerSecond;
  private final TrustedProxies trusted;
  private final String[] origins;
  private final ResourceGuard guard;
  private final LongSupplier clock;
  private final int maxTrackedIps;
  private final int ipMaxConnections;
  private final boolean exemptLoopback;
  private final long rateRefusalDelayMillis;
  private final HeldCounts<InetAddress> sockets = new HeldCounts<>();
  private final TokenBucket global;
  private final TokenBucket[] overflow;
  private final ConcurrentHashMap<InetAddress, TokenBucket> perIp = new ConcurrentHashMap<>();
  private final LongAdder admitted = new LongAdder();
  private final LongAdder[] refused = new LongAdder[REASONS.size()];

  public Admission(AdmissionConfig config, ResourceGuard guard) {
    this(config, guard, System::nanoTime, DEFAULT_MAX_TRACKED_IPS);
  }

  public Admission(AdmissionConfig config, ResourceGuard guard, LongSupplier nanoClock) {
    this(config, guard, nanoClock, DEFAULT_MAX_TRACKED_IPS);
  }

  /**
   * @param nanoClock     the clock of every {@code nowNanos} passed in ({@link System#nanoTime} in production)
   * @param maxTrackedIps per-IP map size beyond which new IPs use shared overflow buckets
   * @throws IllegalArgumentException on a bad trusted proxy entry or, when enabled, bad bucket settings
   */
  public Admission(AdmissionConfig config, ResourceGuard guard, LongSupplier nanoClock, int maxTrackedIps) {
    this.enabled = config.enabled();
    this.ipBurst = config.ipBurst();
    this.ipPerSecond = config.ipPerSecond();
    this.trusted = TrustedProxies.parse(config.trustedProxies());
    this.origins = normalizeOrigins(config.allowedOrigins());
    this.guard = guard;
    this.clock = nanoClock;
    this.maxTrackedIps = maxTrackedIps;
    this.ipMaxConnections = config.ipMaxConnections();
    this.exemptLoopback = config.exemptLoopback();
    this.rateRefusalDelayMillis = config.rateRefusalDelayMs();
    for (int i = 0; i < refused.length; i++) {
      refused[i] = new LongAdder();
    }
    long now = nanoClock.getAsLong();
    if (enabled) {
      this.global = new TokenBucket(config.globalBurst(), config.globalPerSecond(), now);
      this.overflow = new TokenBucket[OVERFLOW_STRIPES];
      for (int i = 0; i < overflow.length; i++) {
        overflow[i] = new TokenBucket(ipBurst, ipPerSecond, now);
      }
    } else {
      this.global = null;
      this.overflow = null;
    }
  }

  /** {@link #check(InetAddress, String, String, long)} at the clock's current time. */
  public Decision check(InetAddress peer, String xForwardedFor, String origin) {
    return check(peer, xForwardedFor, origin, clock.getAsLong());
  }

  /** {@link #check(InetAddress, String, String, long, AddressHold)} at the clock's current time. */
  public Decision check(InetAddress peer, String xForwardedFor, String origin, AddressHold hold) {
    return check(peer, xForwardedFor, origin, clock.getAsLong(), hold);
  }

  /**
   * A socket was accepted from {@code peer}: counts it against the peer (unless the peer is a trusted proxy,
   * exempt, or unknown), or refuses it when the peer already holds {@code ipMaxConnections} sockets.
   *
   * @param hold the socket's hold, released when it closes
   * @return {@link Decision#ADMIT} or {@link #CONNECTIONS_REFUSED}
   */
  public Decision accept(InetAddress peer, AddressHold hold) {
    if (ipMaxConnections == 0 || peer == null || exempt(peer) || trusted.contains(peer)) {
      return Decision.ADMIT;
    }
    if (!sockets.tryAcquire(peer, ipMaxConnections)) {
      return refuse(IP_CONNECTIONS, CONNECTIONS_REFUSED);
    }
    hold.hold(sockets, peer);
    return Decision.ADMIT;
  }

  /** Sockets currently counted against {@code address}. */
  public int connections(InetAddress address) {
    return sockets.held(address);
  }

  /** Addresses currently holding a counted socket. */
  public int addressesHolding() {
    return sockets.keys();
  }

  /** Whether a client address skips the per-address limits. */
  private boolean exempt(InetAddress client) {
    return exemptLoopback && client.isLoopbackAddress();
  }

  /**
   * @param peer          TCP peer address (null if unknown)
   * @param xForwardedFor {@code X-Forwarded-For} value, all lines joined with {@code ","}; may be null
   * @param origin        {@code Origin} header; may be null (refused when an allow-list is set)
   * @param nowNanos      from the same clock as the constructor's
   * @return {@link Decision#ADMIT} or a refusal to send as the HTTP answer
   */
  public Decision check(InetAddress peer, String xForwardedFor, String origin, long nowNanos) {
    return check(peer, xForwardedFor, origin, nowNanos, null);
  }

  /**
   * {@link #check(InetAddress, String, String, long)}, and the per-address concurrency limit: a socket not yet
   * counted (its peer is a trusted proxy) is counted against the resolved client address, or refused with
   * {@link #CONNECTIONS_REFUSED}. A count taken here is given back if a rate limit then refuses.
   *
   * @param hold the socket's hold (see {@link #accept}); null: no concurrency limit
   */
  public Decision check(InetAddress peer, String xForwardedFor, String origin, long nowNanos, AddressHold hold) {
    if (origins.length > 0 && !originAllowed(origin)) {
      return refuse(ORIGIN, ORIGIN_REFUSED);
    }
    String overload = guard.reason();
    if (overload != null) {
      return "heap".equals(overload) ? refuse(HEAP, HEAP_REFUSED) : refuse(CPU, CPU_REFUSED);
    }
    InetAddress client = ClientAddress.resolve(peer, xForwardedFor, trusted);
    boolean exempt = client != null && exempt(client);
    boolean counted = false;
    if (hold != null && !hold.holds() && ipMaxConnections > 0 && client != null && !exempt) {
      if (!sockets.tryAcquire(client, ipMaxConnections)) {
        return refuse(IP_CONNECTIONS, CONNECTIONS_REFUSED);
      }
      hold.hold(sockets, client);
      counted = true;
    }
    if (enabled) {
      TokenBucket ip = exempt ? null : bucketFor(client == null ? UNKNOWN_PEER : client, nowNanos);
      if (ip != null && !ip.tryTake(nowNanos)) {
        if (counted) {
          hold.release();
        }
        return refuse(IP_RATE, rateRefusal(IP_REFUSED, IP_RATE_REASON, ip.nanosUntilAvailable(nowNanos)));
      }
      if (!global.tryTake(nowNanos)) {
        if (ip != null) {
          ip.refund();
        }
        if (counted) {
          hold.release();
        }
        return refuse(GLOBAL_RATE, rateRefusal(GLOBAL_REFUSED, "global_rate", global.nanosUntilAvailable(nowNanos)));
      }
    }
    admitted.increment();
    return Decision.ADMIT;
  }

  /**
   * How long to wait before sending a refusal: {@code rateRefusalDelayMs} for a per-address rate refusal of a
   * socket that counts against its address, else 0. Such a client is already sending more upgrades than its rate
   * allows; answered at once, a reconnect loop makes the server accept, parse, answer and close as fast as it
   * can retry. Answered later, each of its loops retries at most once per delay. Only a counted socket waits,
   * so an address never holds more than {@code ipMaxConnections} sockets, waiting ones included; a socket behind a
   * trusted proxy (not counted, and carrying other clients' traffic) and global-rate refusals (a storm of many
   * honest clients, whose waiting sockets would take slots) are answered at once.
   */
  public long refusalDelayMillis(Decision refusal, AddressHold hold) {
    return IP_RATE_REASON.equals(refusal.reason()) && hold != null && hold.holds() ? rateRefusalDelayMillis : 0;
  }

  /**
   * Drops per-IP buckets that have refilled completely: such an IP has been quiet long enough that a new full
   * bucket is the same thing. Call every few seconds. Races with a concurrent take on a dropped bucket can
   * give that IP at most one extra token per eviction, which is harmless.
   */
  public void evictIdle(long nowNanos) {
    perIp.values().removeIf(b -> b.isFull(nowNanos));
  }

  public void evictIdle() {
    evictIdle(clock.getAsLong());
  }

  /** Per-IP buckets currently held (overflow stripes not counted). */
  public int trackedIps() {
    return perIp.size();
  }

  /** Requests admitted so far. */
  public long admitted() {
    return admitted.sum();
  }

  /**
   * Refusals so far with the given reason.
   *
   * @throws IllegalArgumentException if {@code reason} is not in {@link #REASONS}
   */
  public long refused(String reason) {
    int i = REASONS.indexOf(reason);
    if (i < 0) {
      throw new IllegalArgumentException("unknown reason: " + reason);
    }
    return refused[i].sum();
  }

  public ResourceGuard guard() {
    return guard;
  }

  private TokenBucket bucketFor(InetAddress client, long nowNanos) {
    TokenBucket b = perIp.get(client);
    if (b != null) {
      return b;
    }
    if (perIp.size() >= maxTrackedIps) {
      return overflow[stripe(client)];
    }
    TokenBucket fresh = new TokenBucket(ipBurst, ipPerSecond, nowNanos);
    b = perIp.putIfAbsent(client, fresh);
    return b == null ? fresh : b;
  }

  /** Fibonacci hashing of the address hash onto the stripe array (top bits: well mixed for adjacent IPs). */
  private static int stripe(InetAddress client) {
    return (client.hashCode() * 0x9E3779B9) >>> (32 - Integer.numberOfTrailingZeros(OVERFLOW_STRIPES));
  }

  private boolean originAllowed(String origin) {
    if (origin == null) {
      return false;
    }
    for (String allowed : origins) {
      if (allowed.equalsIgnoreCase(origin)) {
        return true;
      }
    }
    return false;
  }

  private Decision refuse(int reason, Decision decision) {
    refused[reason].increment();
    return decision;
  }

  private static Decision rateRefusal(Decision[] cached, String reason, long waitNanos) {
    long seconds = waitNanos / 1_000_000_000L + (waitNanos % 1_000_000_000L != 0 ? 1 : 0);
    seconds = Math.max(1, seconds);
    return seconds <= CACHED_RETRY_SECONDS ? cached[(int) seconds]
        : new Decision(429, RATE_BODY, (int) Math.min(seconds, Integer.MAX_VALUE), reason);
  }

  private static Decision[] rateRefusals(String reason) {
    Decision[] d = new Decision[CACHED_RETRY_SECONDS + 1];
    for (int s = 1; s <= CACHED_RETRY_SECONDS; s++) {
      d[s] = new Decision(429, RATE_BODY, s, reason);
    }
    return d;
  }

  /** Trimmed, without a trailing slash (a browser never sends one, a config easily has one). */
  private static String[] normalizeOrigins(List<String> allowed) {
    if (allowed == null) {
      return new String[0];
    }
    return allowed.stream()
        .filter(o -> o != null && !o.isBlank())
        .map(String::trim)
        .map(o -> o.endsWith("/") ? o.substring(0, o.length() - 1) : o)
        .toArray(String[]::new);
  }

  /** 0.0.0.0: never a real TCP peer, so the unknown-peer bucket is nobody else's. */
  private static InetAddress unspecifiedAddress() {
    try {
      return InetAddress.getByAddress(new byte[4]);
    } catch (java.net.UnknownHostException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  /** Retry-After seconds for a wait: rounded up, at least 1. Visible for tests. */
  static int retryAfterSeconds(long waitNanos) {
    return rateRefusal(IP_REFUSED, IP_RATE_REASON, waitNanos).retryAfterSeconds();
  }
}
