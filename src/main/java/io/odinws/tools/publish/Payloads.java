package io.odinws.tools.publish;

/**
 * Writers of each event type's {@code data} members (fields exactly as listed in ODIN-REFERENCE.md,
 * "Kafka input"). Each updates the token's state first, so e.g. totalLiquidity follows adds and removals.
 */
final class Payloads {
    /** Writes the members of {@code data} (the enclosing object is opened and closed by the caller). */
    @FunctionalInterface
    interface Writer {
        void write(Market m, TokenState t, JsonWriter w, long nowMillis);
    }

    private Payloads() {}

    /** Decimal places giving ~6 significant digits for prices and token amounts of any magnitude. */
    static int places(double v) {
        double a = Math.abs(v);
        if (a >= 10_000) return 2;
        if (a >= 100) return 4;
        if (a >= 1) return 6;
        if (a >= 0.01) return 8;
        return 10;
    }

    private static JsonWriter decimal(JsonWriter w, String name, double v) {
        return w.dec(name, v, places(v));
    }

    private static JsonWriter usd(JsonWriter w, String name, double v) {
        return w.dec(name, v, 2);
    }

    private static JsonWriter txHash(Market m, JsonWriter w, String name) {
        return w.randomHex(name, "0x", 64, m.rng);
    }

    // --- trade: price, amount, buyer, seller, txHash; drift: buys push the price up, sells down

    static void tradeExecuted(Market m, TokenState t, JsonWriter w, long now) {
        trade(m, t, w, 0);
    }

    static void buyCompleted(Market m, TokenState t, JsonWriter w, long now) {
        trade(m, t, w, 0.3);
    }

    static void sellCompleted(Market m, TokenState t, JsonWriter w, long now) {
        trade(m, t, w, -0.3);
    }

    private static void trade(Market m, TokenState t, JsonWriter w, double drift) {
        double price = t.step(m.rng, drift);
        double amount = m.tokenAmount(price);
        t.volume24h = t.volume24h * 0.9999 + amount * price; // decaying window, so volume tracks activity
        String buyer = m.wallet();
        decimal(w, "price", price);
        decimal(w, "amount", amount);
        w.str("buyer", buyer).str("seller", m.walletOtherThan(buyer));
        txHash(m, w, "txHash");
    }

    // --- liquidity

    static void liquidityAdded(Market m, TokenState t, JsonWriter w, long now) {
        double amount = Math.min(m.logNormal(5_000, 1.2), t.totalLiquidity * 0.2);
        t.totalLiquidity += amount;
        usd(w, "amount", amount).str("provider", m.wallet());
        usd(w, "totalLiquidity", t.totalLiquidity);
    }

    static void liquidityRemoved(Market m, TokenState t, JsonWriter w, long now) {
        // Never drain the pool below a floor: removals are bounded by what is there.
        double amount = Math.min(m.logNormal(5_000, 1.2), Math.max(0, t.totalLiquidity - 50_000) * 0.2);
        t.totalLiquidity -= amount;
        usd(w, "amount", amount).str("provider", m.wallet());
        usd(w, "totalLiquidity", t.totalLiquidity);
    }

    static void liquidityRebalanced(Market m, TokenState t, JsonWriter w, long now) {
        double old = t.poolRatio;
        t.poolRatio = Math.min(0.9, Math.max(0.1, old + m.rng.nextGaussian() * 0.03));
        w.dec("oldRatio", old, 4).dec("newRatio", t.poolRatio, 4);
        usd(w, "totalLiquidity", t.totalLiquidity);
    }

    // --- metadata

    static void metadataUpdated(Market m, TokenState t, JsonWriter w, long now) {
        metadata(t, w);
    }

    static void tokenNameChanged(Market m, TokenState t, JsonWriter w, long now) {
        String[] variants = {t.baseName, t.baseName + " Token", "Wrapped " + t.baseName, t.baseName + " Classic"};
        t.name = variants[m.rng.nextInt(variants.length)];
        metadata(t, w);
    }

    private static void metadata(TokenState t, JsonWriter w) {
        w.str("name", t.name).str("symbol", t.symbol)
                .str("description", t.name + " (" + t.symbol + ") community token traded on Odin.");
    }

    static void tokenFlagsChanged(Market m, TokenState t, JsonWriter w, long now) {
        switch (m.rng.nextInt(3)) { // one flag flips per change
            case 0 -> t.verified = !t.verified;
            case 1 -> t.featured = !t.featured;
            default -> t.trending = !t.trending;
        }
        w.beginObject("flags").bool("verified", t.verified).bool("featured", t.featured)
                .bool("trending", t.trending).endObject();
    }

    // --- social

    static void twitterVerified(Market m, TokenState t, JsonWriter w, long now) {
        w.str("twitterHandle", "@" + t.slug + "_official").bool("verified", m.rng.nextDouble() < 0.9)
                .num("verifiedAt", now);
    }

    static void socialLinksUpdated(Market m, TokenState t, JsonWriter w, long now) {
        w.str("twitter", "https://x.com/" + t.slug + "_official")
                .str("telegram", "https://t.me/" + t.slug + "_community")
                .str("website", "https://" + t.slug + ".io");
    }

    // --- community

    static void commentPosted(Market m, TokenState t, JsonWriter w, long now) {
        w.str("commentId", t.newComment(m.rng)).str("author", m.handle()).str("content", m.commentText())
                .num("timestamp", now);
    }

    static void commentPinned(Market m, TokenState t, JsonWriter w, long now) {
        w.str("commentId", t.commentId(t.recentCommentSlot(m.rng))).str("pinnedBy", m.handle());
    }

    static void commentUpvoted(Market m, TokenState t, JsonWriter w, long now) {
        int slot = t.recentCommentSlot(m.rng);
        w.str("commentId", t.commentId(slot)).str("voter", m.handle()).num("totalUpvotes", t.upvote(slot));
    }

    static void favoriteToggled(Market m, TokenState t, JsonWriter w, long now) {
        w.str("userId", m.handle()).bool("isFavorite", m.rng.nextDouble() < 0.7);
    }

    // --- creation

    static void tokenCreated(Market m, TokenState t, JsonWriter w, long now) {
        w.str("creator", m.wallet()).str("name", t.baseName).str("symbol", t.symbol).num("supply", (long) t.supply);
    }

    static void tokenListed(Market m, TokenState t, JsonWriter w, long now) {
        w.str("exchange", Market.EXCHANGES[m.rng.nextInt(Market.EXCHANGES.length)]);
        decimal(w, "initialPrice", t.referencePrice).num("timestamp", now);
    }

    // --- analytics (deltas in percent)

    static void priceDeltaUpdated(Market m, TokenState t, JsonWriter w, long now) {
        double price = t.price();
        double delta24h = (price / t.referencePrice - 1) * 100 + m.rng.nextGaussian() * 0.5;
        decimal(w, "price", price);
        w.dec("delta1h", m.rng.nextGaussian() * 1.2, 2).dec("delta24h", delta24h, 2)
                .dec("delta7d", delta24h + m.rng.nextGaussian() * 6, 2);
    }

    static void holderCountUpdated(Market m, TokenState t, JsonWriter w, long now) {
        long change = Math.round(m.rng.nextGaussian() * 8 + 2); // slow growth on average
        if (t.holderCount + change < 1) change = 1 - t.holderCount;
        t.holderCount += change;
        w.num("holderCount", t.holderCount).num("change", change);
    }

    static void analyticsRecalculated(Market m, TokenState t, JsonWriter w, long now) {
        usd(w, "volume24h", t.volume24h);
        usd(w, "marketCap", t.marketCap());
        usd(w, "liquidity", t.totalLiquidity);
    }

    static void trendingUpdated(Market m, TokenState t, JsonWriter w, long now) {
        int rank = 1 + (int) Math.min(99, Math.abs(m.rng.nextGaussian()) * 25);
        w.num("rank", rank).dec("score", 100.0 / Math.sqrt(rank) * m.rng.nextDouble(0.9, 1.1), 2);
    }

    // --- balances

    static void balanceUpdated(Market m, TokenState t, JsonWriter w, long now) {
        double balance = m.tokenAmount(t.price()) * 10;
        double change = m.tokenAmount(t.price()) * (m.rng.nextBoolean() ? 1 : -1);
        if (change < -balance) change = -balance;
        w.str("user", m.owner());
        decimal(w, "balance", balance + change);
        decimal(w, "change", change);
    }

    static void transferCompleted(Market m, TokenState t, JsonWriter w, long now) {
        String from = m.owner();
        w.str("from", from).str("to", m.ownerOtherThan(from));
        decimal(w, "amount", m.tokenAmount(t.price()));
        txHash(m, w, "txHash");
    }
}
