package io.odinws.tools.hostile;

import java.util.Locale;

/** What one hostile socket does; each slot of the run keeps doing its kind until the end. */
public enum Kind {
    /** A valid request line, then one header byte per interval, never the end of the headers. */
    SLOW_LORIS,
    /** Connects and sends nothing. */
    HALF_OPEN,
    /** Upgrades, then sends text messages far above the inbound rate limit. */
    FLOOD,
    /** Upgrades, sends a close frame at once, waits for the echo, and starts again. */
    RECONNECT,
    /** Upgrades, then sends one frame larger than the server's ws.maxMessageBytes. */
    OVERSIZE;

    /** The name in the command line and the JSON summary: {@code slow_loris}, {@code half_open}, ... */
    public String key() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The command-line option of this kind's slot count: {@code --slow-loris}, ... */
    public String option() {
        return "--" + key().replace('_', '-');
    }
}
