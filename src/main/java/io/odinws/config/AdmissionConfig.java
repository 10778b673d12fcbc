package io.odinws.config;

import java.util.List;

/**
 * Admission before the WebSocket upgrade (PROTOCOL.md section 7).
 *
 * @param enabled           connection-rate limits on or off (the resource guard and Origin list always apply)
 * @param ipBurst           per-IP connection token bucket size
 * @param ipPerSecond       per-IP refill rate
 * @param globalBurst       server-wide connection token bucket size
 * @param globalPerSecond   server-wide refill rate
 * @param trustedProxies    peer addresses whose {@code X-Forwarded-For} is believed; empty: never
 * @param allowedOrigins    allowed {@code Origin} values; empty: any origin
 * @param cpuRejectPercent  CPU of the shards' event loops (percent of the cores they can use) above which, when
 *                          sustained, new upgrades get 503
 * @param heapRejectPercent heap use (percent of max) above which new upgrades get 503
 * @param ipMaxConnections  simultaneous sockets per client address (429 beyond); 0: no limit. Applies whether or
 *                          not {@code enabled} is set
 * @param exemptLoopback    loopback client addresses (127.0.0.0/8, ::1) skip the per-address rate and concurrency
 *                          limits (the global rate still applies)
 * @param cpuSustainSeconds how long every once-a-second CPU sample must stay above {@code cpuRejectPercent}
 *                          before the guard trips
 * @param rateRefusalDelayMs how long an upgrade refused for its address's connection rate waits for its 429, when
 *                          the socket counts against that address: a client reconnecting in a loop is slowed to a
 *                          pace the server can refuse cheaply; 0 answers at once
 */
public record AdmissionConfig(
    boolean enabled,
    int ipBurst,
    double ipPerSecond,
    int globalBurst,
    double globalPerSecond,
    List<String> trustedProxies,
    List<String> allowedOrigins,
    double cpuRejectPercent,
    double heapRejectPercent,
    int ipMaxConnections,
    boolean exemptLoopback,
    int cpuSustainSeconds,
    int rateRefusalDelayMs) {

  /** Default per-address concurrency limit. */
  public static final int DEFAULT_IP_MAX_CONNECTIONS = 200;

  /** Without the per-address settings: the default concurrency limit, loopback not exempt, refusals answered at once. */
  public AdmissionConfig(boolean enabled, int ipBurst, double ipPerSecond, int globalBurst, double globalPerSecond,
                         List<String> trustedProxies, List<String> allowedOrigins, double cpuRejectPercent,
                         double heapRejectPercent, int cpuSustainSeconds) {
    this(enabled, ipBurst, ipPerSecond, globalBurst, globalPerSecond, trustedProxies, allowedOrigins, cpuRejectPercent,
        heapRejectPercent, DEFAULT_IP_MAX_CONNECTIONS, false, cpuSustainSeconds, 0);
  }
}
