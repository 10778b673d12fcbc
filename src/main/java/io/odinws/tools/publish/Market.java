package io.odinws.tools.publish;

import java.util.random.RandomGenerator;

/**
 * The random source plus fixed pools of wallets and user handles shared by all tokens. Pools (rather than
 * fresh values each time) make the stream look like a market: the same traders and commenters recur.
 */
final class Market {
    private static final int WALLETS = 1024;
    private static final String[] ADJECTIVES = {"crypto", "moon", "diamond", "degen", "alpha", "based", "lucky",
            "silent", "rapid", "golden", "satoshi", "whale", "paper", "laser", "chad", "quant"};
    private static final String[] NOUNS = {"Whale", "Hodler", "Trader", "Ape", "Miner", "Wizard", "Viking",
            "Raven", "Bull", "Bear", "Shark", "Builder", "Oracle", "Pilot", "Sage", "Fox"};
    private static final String[] COMMENTS = {
            "To the moon!", "Just bought more, feeling good about this one.", "Chart looks bullish on the 4h.",
            "Who else is holding through the dip?", "Liquidity looks healthy today.", "Dev team is shipping fast.",
            "This volume is insane", "Taking some profit here, GL all.", "Anyone know when the next update lands?",
            "Bought the dip again lol", "Support held perfectly at the last level.",
            "Still early. Zoom out.", "Whale wallet just moved, watch out.", "Great AMA yesterday.",
            "Not financial advice but this looks undervalued."};
    static final String[] EXCHANGES = {"Odin DEX", "Uniswap", "Raydium", "PancakeSwap", "Binance", "Coinbase",
            "Kraken", "OKX", "Bybit", "KuCoin"};

    final RandomGenerator rng;
    private final String[] wallets = new String[WALLETS];
    private final String[] handles = new String[ADJECTIVES.length * NOUNS.length];
    /** Account-event parties: 0 = the wallet pool; N = {@code ownerPrefix + 0..N-1} (--wallets). */
    private final int owners;
    private final String ownerPrefix;

    Market(RandomGenerator rng) {
        this(rng, 0, "");
    }

    Market(RandomGenerator rng, int owners, String ownerPrefix) {
        this.rng = rng;
        this.owners = owners;
        this.ownerPrefix = ownerPrefix;
        StringBuilder sb = new StringBuilder(42);
        for (int i = 0; i < WALLETS; i++) {
            sb.setLength(0);
            sb.append("0x");
            JsonWriter.appendRandomHex(sb, 40, rng);
            wallets[i] = sb.toString();
        }
        for (int i = 0; i < handles.length; i++) {
            handles[i] = ADJECTIVES[i / NOUNS.length] + NOUNS[i % NOUNS.length] + rng.nextInt(1, 100);
        }
    }

    String wallet() {
        return wallets[rng.nextInt(WALLETS)];
    }

    /** A wallet different from {@code other} (counterparties are never the same address). */
    String walletOtherThan(String other) {
        String w;
        do {
            w = wallet();
        } while (w.equals(other));
        return w;
    }

    /** The party of an account event (balance, transfer): a wallet, or with --wallets one of the named users. */
    String owner() {
        return owners == 0 ? wallet() : ownerPrefix + rng.nextInt(owners);
    }

    /** An account-event party different from {@code other}. */
    String ownerOtherThan(String other) {
        String w;
        do {
            w = owner();
        } while (w.equals(other));
        return w;
    }

    String handle() {
        return handles[rng.nextInt(handles.length)];
    }

    String commentText() {
        return COMMENTS[rng.nextInt(COMMENTS.length)];
    }

    /** Log-normal value: typical size {@code median}, spread {@code sigma} in log space (heavy right tail). */
    double logNormal(double median, double sigma) {
        return median * Math.exp(sigma * rng.nextGaussian());
    }

    /** Trade/transfer size in token units: USD notional log-normal around $500. */
    double tokenAmount(double price) {
        return logNormal(500, 1.5) / price;
    }
}
