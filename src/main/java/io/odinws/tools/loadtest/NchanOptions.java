package io.odinws.tools.loadtest;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.regex.Pattern;

/**
 * The settings of {@code --protocol nchan}: the generator's clients are nchan WebSocket subscribers
 * ({@code ws://HOST:PORT/sub/<channel>}, one socket per client, nothing sent), and optionally this process
 * publishes to nchan over HTTP ({@code POST http://HOST:PORT/pub/<channel>}, see {@link NchanPublisher}).
 *
 * @param publishUrl   base URL of the publisher endpoint (see {@link #publisherUri}); null = no publisher in this process
 * @param rate         messages per second, all channels together, round-robin over the channel list
 * @param count        stop publishing after this many messages; 0 = until the end of the run
 * @param delayMillis  start publishing this long after the run starts; -1 = auto (once nchan counts every client
 *                     as a subscriber, waiting at most {@link #effectiveDelayMillis} + 30 s)
 */
public record NchanOptions(URI publishUrl, int rate, long count, long delayMillis) {
    public static final int MAX_RATE = 1_000_000;
    /** Channel ids as they go into the URL path and the nginx location regex ({@code [\w.\-]+}). */
    static final Pattern CHANNEL_ID = Pattern.compile("[A-Za-z0-9_.\\-]{1,200}");

    public NchanOptions {
        if (rate < 1 || rate > MAX_RATE) throw new IllegalArgumentException("--nchan-rate must be 1.." + MAX_RATE + " messages/s, got " + rate);
        if (count < 0) throw new IllegalArgumentException("--nchan-count must be >= 0 (0 = until the end), got " + count);
        if (delayMillis < -1) throw new IllegalArgumentException("--nchan-delay-ms must be >= 0 or auto, got " + delayMillis);
        if (publishUrl != null) {
            if (!"http".equalsIgnoreCase(publishUrl.getScheme()) || publishUrl.getHost() == null) {
                throw new IllegalArgumentException("--nchan-publish must be an http://HOST:PORT[/PREFIX] URL, got '" + publishUrl + "'");
            }
        }
    }

    /** Options with the publisher removed (a child process of a spread run: the parent publishes). */
    NchanOptions withoutPublisher() {
        return new NchanOptions(null, rate, count, delayMillis);
    }

    /** The fixed delay, or for auto the ramp's length plus one second (auto waits at most this + 30 s). */
    long effectiveDelayMillis(int connections, int rampPerSecond) {
        if (delayMillis >= 0) return delayMillis;
        return (long) Math.ceil(connections * 1000.0 / rampPerSecond) + 1000;
    }

    /**
     * The WebSocket URL of a subscriber to {@code channel}: {@code base}'s path is a prefix; an empty path or
     * "/" means "/sub". {@code ws://127.0.0.1:9000} and {@code ws://127.0.0.1:9000/sub/} both give
     * {@code ws://127.0.0.1:9000/sub/BTC.trade}.
     */
    public static URI subscriberUri(URI base, String channel) {
        return endpoint(base, "/sub", channel);
    }

    /** The publisher URL for {@code channel}: as {@link #subscriberUri}, with "/pub" as the default prefix. */
    public static URI publisherUri(URI base, String channel) {
        return endpoint(base, "/pub", channel);
    }

    private static URI endpoint(URI base, String defaultPrefix, String channel) {
        if (!CHANNEL_ID.matcher(channel).matches()) {
            throw new IllegalArgumentException("nchan channel ids must be 1-200 characters of [A-Za-z0-9_.-], got '" + channel + "'");
        }
        String path = base.getRawPath() == null ? "" : base.getRawPath();
        while (path.endsWith("/")) path = path.substring(0, path.length() - 1);
        if (path.isEmpty()) path = defaultPrefix;
        try {
            return new URI(base.getScheme(), base.getRawAuthority(), path + "/" + channel, base.getRawQuery(), null);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("cannot build an nchan URL from '" + base + "' and '" + channel + "'", e);
        }
    }
}
