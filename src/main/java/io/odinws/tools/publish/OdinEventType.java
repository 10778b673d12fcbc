package io.odinws.tools.publish;

import java.util.List;

/**
 * The Odin event types: wire name ({@link #name()}), category (which selects the topic) and relative weight
 * in the mix. Weights are the percentages of ODIN-REFERENCE.md; the 11 rare types share the remaining 3 %
 * equally (~0.27 % each), so the weights sum to exactly 100 and the documented shares hold as written.
 */
public enum OdinEventType {
    TRADE_EXECUTED("trade", 20, Payloads::tradeExecuted),
    BUY_COMPLETED("trade", 15, Payloads::buyCompleted),
    SELL_COMPLETED("trade", 15, Payloads::sellCompleted),
    LIQUIDITY_ADDED("liquidity", 8, Payloads::liquidityAdded),
    LIQUIDITY_REMOVED("liquidity", 8, Payloads::liquidityRemoved),
    LIQUIDITY_REBALANCED("liquidity", Weights.RARE, Payloads::liquidityRebalanced),
    METADATA_UPDATED("metadata", 5, Payloads::metadataUpdated),
    TOKEN_NAME_CHANGED("metadata", Weights.RARE, Payloads::tokenNameChanged),
    TOKEN_FLAGS_CHANGED("metadata", Weights.RARE, Payloads::tokenFlagsChanged),
    TWITTER_VERIFIED("social", Weights.RARE, Payloads::twitterVerified),
    SOCIAL_LINKS_UPDATED("social", Weights.RARE, Payloads::socialLinksUpdated),
    COMMENT_POSTED("community", 5, Payloads::commentPosted),
    COMMENT_PINNED("community", Weights.RARE, Payloads::commentPinned),
    COMMENT_UPVOTED("community", Weights.RARE, Payloads::commentUpvoted),
    FAVORITE_TOGGLED("community", 2, Payloads::favoriteToggled),
    TOKEN_CREATED("creation", Weights.RARE, Payloads::tokenCreated),
    TOKEN_LISTED("creation", Weights.RARE, Payloads::tokenListed),
    PRICE_DELTA_UPDATED("analytics", 7, Payloads::priceDeltaUpdated),
    HOLDER_COUNT_UPDATED("analytics", 2, Payloads::holderCountUpdated),
    ANALYTICS_RECALCULATED("analytics", 7, Payloads::analyticsRecalculated),
    TRENDING_UPDATED("analytics", Weights.RARE, Payloads::trendingUpdated),
    BALANCE_UPDATED("balances", 3, Payloads::balanceUpdated),
    TRANSFER_COMPLETED("balances", Weights.RARE, Payloads::transferCompleted);

    /** The eight categories, in the order of the default topics. */
    public static final List<String> CATEGORIES =
            List.of("trade", "liquidity", "metadata", "social", "community", "creation", "analytics", "balances");

    private final String category;
    private final double weight;
    private final Payloads.Writer payload;

    OdinEventType(String category, double weight, Payloads.Writer payload) {
        this.category = category;
        this.weight = weight;
        this.payload = payload;
    }

    public String category() {
        return category;
    }

    /** Relative weight (percent of the full mix). */
    public double weight() {
        return weight;
    }

    Payloads.Writer payload() {
        return payload;
    }

    /** Holder for a constant usable in enum constructor arguments. */
    private static final class Weights {
        static final double RARE = 3.0 / 11;
    }
}
