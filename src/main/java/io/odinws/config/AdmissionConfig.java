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
 * @param cpuSustainSeconds how long every once-a-second CPU sample must stay above {@code cpuRejectPercent}
 *                          before the guard trips
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
    int cpuSustainSeconds) {
}
