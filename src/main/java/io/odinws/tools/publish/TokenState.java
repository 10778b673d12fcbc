package io.odinws.tools.publish;

import java.util.Locale;
import java.util.Map;
import java.util.random.RandomGenerator;

/** Evolving market state of one token, so consecutive events for it tell a consistent story. */
final class TokenState {
    /** name, reference price (USD), circulating supply; anything else gets a generated profile. */
    private record Profile(String name, double price, double supply) {}

    private static final Map<String, Profile> KNOWN = Map.ofEntries(
            Map.entry("BTC", new Profile("Bitcoin", 65_000, 19.7e6)),
            Map.entry("ETH", new Profile("Ethereum", 3_200, 120e6)),
            Map.entry("SOL", new Profile("Solana", 150, 450e6)),
            Map.entry("DOGE", new Profile("Dogecoin", 0.15, 144e9)),
            Map.entry("ODIN", new Profile("Odin", 0.042, 1e9)),
            Map.entry("AVAX", new Profile("Avalanche", 35, 400e6)),
            Map.entry("MATIC", new Profile("Polygon", 0.7, 10e9)),
            Map.entry("LINK", new Profile("Chainlink", 15, 600e6)),
            Map.entry("UNI", new Profile("Uniswap", 8, 600e6)),
            Map.entry("AAVE", new Profile("Aave", 95, 15e6)),
            Map.entry("SUSHI", new Profile("SushiSwap", 1.1, 250e6)),
            Map.entry("COMP", new Profile("Compound", 55, 8e6)),
            Map.entry("MKR", new Profile("Maker", 2_500, 900e3)),
            Map.entry("SNX", new Profile("Synthetix", 2.8, 330e6)),
            Map.entry("YFI", new Profile("yearn.finance", 7_000, 33e3)),
            Map.entry("CRV", new Profile("Curve DAO", 0.5, 1.2e9)),
            Map.entry("BAL", new Profile("Balancer", 3.5, 60e6)),
            Map.entry("RUNE", new Profile("THORChain", 5, 330e6)),
            Map.entry("LUNA", new Profile("Terra", 0.6, 700e6)),
            Map.entry("ATOM", new Profile("Cosmos", 8, 390e6)));

    /** Per-trade log-price volatility and pull back toward the reference (keeps long runs bounded). */
    private static final double STEP_SIGMA = 0.0008;
    private static final double REVERSION = 1e-4;
    private static final int RECENT_COMMENTS = 16;

    final String symbol;
    final String baseName;
    final String slug; // lowercase, for URLs and handles
    final double referencePrice;
    final double supply;
    String name;
    private final double logReference;
    private double logPrice;
    double totalLiquidity; // USD in the pool
    double poolRatio = 0.5;
    long holderCount;
    double volume24h;
    boolean verified;
    boolean featured;
    boolean trending;
    private final String[] recentComments = new String[RECENT_COMMENTS];
    private final long[] upvotes = new long[RECENT_COMMENTS];
    private int commentCount;

    TokenState(String symbol, RandomGenerator rng) {
        this.symbol = symbol;
        Profile p = KNOWN.get(symbol);
        if (p == null) { // unknown token: a small-cap profile
            p = new Profile(symbol.charAt(0) + symbol.substring(1).toLowerCase(Locale.ROOT) + " Token",
                    Math.exp(rng.nextDouble(Math.log(0.001), Math.log(50))), 1e9);
        }
        this.baseName = p.name();
        this.name = p.name();
        this.slug = symbol.toLowerCase(Locale.ROOT);
        this.referencePrice = p.price();
        this.supply = p.supply();
        this.logReference = Math.log(p.price());
        this.logPrice = logReference;
        double marketCap = p.price() * p.supply();
        this.totalLiquidity = Math.max(50_000, marketCap * rng.nextDouble(0.002, 0.02));
        this.holderCount = Math.max(500, (long) (Math.sqrt(marketCap) * rng.nextDouble(0.5, 2)));
        this.volume24h = marketCap * rng.nextDouble(0.01, 0.08);
        this.verified = rng.nextDouble() < 0.8;
    }

    double price() {
        return Math.exp(logPrice);
    }

    /** One random-walk step; {@code drift} in units of sigma (buys push up, sells down). */
    double step(RandomGenerator rng, double drift) {
        logPrice += STEP_SIGMA * (rng.nextGaussian() + drift) - REVERSION * (logPrice - logReference);
        return price();
    }

    double marketCap() {
        return price() * supply;
    }

    String newComment(RandomGenerator rng) {
        StringBuilder id = new StringBuilder(16).append("cmt_");
        JsonWriter.appendRandomHex(id, 12, rng);
        int slot = commentCount++ % RECENT_COMMENTS;
        recentComments[slot] = id.toString();
        upvotes[slot] = 0;
        return recentComments[slot];
    }

    /** Index of a recent comment (creating one if none exists yet), for pins and upvotes. */
    int recentCommentSlot(RandomGenerator rng) {
        if (commentCount == 0) newComment(rng);
        return rng.nextInt(Math.min(commentCount, RECENT_COMMENTS));
    }

    String commentId(int slot) {
        return recentComments[slot];
    }

    long upvote(int slot) {
        return ++upvotes[slot];
    }
}
