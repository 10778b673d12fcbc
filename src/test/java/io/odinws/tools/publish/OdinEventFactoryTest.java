package io.odinws.tools.publish;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class OdinEventFactoryTest {
    private static final long NOW = 1_732_000_000_450L;

    /** The documented data fields per type, written out independently of the production table. */
    private static final Map<String, Set<String>> FIELDS = Map.ofEntries(
            Map.entry("TRADE_EXECUTED", Set.of("price", "amount", "buyer", "seller", "txHash")),
            Map.entry("BUY_COMPLETED", Set.of("price", "amount", "buyer", "seller", "txHash")),
            Map.entry("SELL_COMPLETED", Set.of("price", "amount", "buyer", "seller", "txHash")),
            Map.entry("LIQUIDITY_ADDED", Set.of("amount", "provider", "totalLiquidity")),
            Map.entry("LIQUIDITY_REMOVED", Set.of("amount", "provider", "totalLiquidity")),
            Map.entry("LIQUIDITY_REBALANCED", Set.of("oldRatio", "newRatio", "totalLiquidity")),
            Map.entry("METADATA_UPDATED", Set.of("name", "symbol", "description")),
            Map.entry("TOKEN_NAME_CHANGED", Set.of("name", "symbol", "description")),
            Map.entry("TOKEN_FLAGS_CHANGED", Set.of("flags")),
            Map.entry("TWITTER_VERIFIED", Set.of("twitterHandle", "verified", "verifiedAt")),
            Map.entry("SOCIAL_LINKS_UPDATED", Set.of("twitter", "telegram", "website")),
            Map.entry("COMMENT_POSTED", Set.of("commentId", "author", "content", "timestamp")),
            Map.entry("COMMENT_PINNED", Set.of("commentId", "pinnedBy")),
            Map.entry("COMMENT_UPVOTED", Set.of("commentId", "voter", "totalUpvotes")),
            Map.entry("FAVORITE_TOGGLED", Set.of("userId", "isFavorite")),
            Map.entry("TOKEN_CREATED", Set.of("creator", "name", "symbol", "supply")),
            Map.entry("TOKEN_LISTED", Set.of("exchange", "initialPrice", "timestamp")),
            Map.entry("PRICE_DELTA_UPDATED", Set.of("price", "delta1h", "delta24h", "delta7d")),
            Map.entry("HOLDER_COUNT_UPDATED", Set.of("holderCount", "change")),
            Map.entry("ANALYTICS_RECALCULATED", Set.of("volume24h", "marketCap", "liquidity")),
            Map.entry("TRENDING_UPDATED", Set.of("rank", "score")),
            Map.entry("BALANCE_UPDATED", Set.of("user", "balance", "change")),
            Map.entry("TRANSFER_COMPLETED", Set.of("from", "to", "amount", "txHash")));

    private static final Map<String, String> TOPIC = Map.ofEntries(
            Map.entry("TRADE_EXECUTED", "odin.trades"), Map.entry("BUY_COMPLETED", "odin.trades"),
            Map.entry("SELL_COMPLETED", "odin.trades"), Map.entry("LIQUIDITY_ADDED", "odin.liquidity"),
            Map.entry("LIQUIDITY_REMOVED", "odin.liquidity"), Map.entry("LIQUIDITY_REBALANCED", "odin.liquidity"),
            Map.entry("METADATA_UPDATED", "odin.metadata"), Map.entry("TOKEN_NAME_CHANGED", "odin.metadata"),
            Map.entry("TOKEN_FLAGS_CHANGED", "odin.metadata"), Map.entry("TWITTER_VERIFIED", "odin.social"),
            Map.entry("SOCIAL_LINKS_UPDATED", "odin.social"), Map.entry("COMMENT_POSTED", "odin.community"),
            Map.entry("COMMENT_PINNED", "odin.community"), Map.entry("COMMENT_UPVOTED", "odin.community"),
            Map.entry("FAVORITE_TOGGLED", "odin.community"), Map.entry("TOKEN_CREATED", "odin.creation"),
            Map.entry("TOKEN_LISTED", "odin.creation"), Map.entry("PRICE_DELTA_UPDATED", "odin.analytics"),
            Map.entry("HOLDER_COUNT_UPDATED", "odin.analytics"), Map.entry("ANALYTICS_RECALCULATED", "odin.analytics"),
            Map.entry("TRENDING_UPDATED", "odin.analytics"), Map.entry("BALANCE_UPDATED", "odin.balances"),
            Map.entry("TRANSFER_COMPLETED", "odin.balances"));

    /** Documented shares in percent; the 11 rare types split the remaining 3 %. */
    private static final Map<String, Double> SHARE = Map.ofEntries(
            Map.entry("TRADE_EXECUTED", 20.0), Map.entry("BUY_COMPLETED", 15.0), Map.entry("SELL_COMPLETED", 15.0),
            Map.entry("LIQUIDITY_ADDED", 8.0), Map.entry("LIQUIDITY_REMOVED", 8.0),
            Map.entry("PRICE_DELTA_UPDATED", 7.0), Map.entry("ANALYTICS_RECALCULATED", 7.0),
            Map.entry("METADATA_UPDATED", 5.0), Map.entry("COMMENT_POSTED", 5.0), Map.entry("BALANCE_UPDATED", 3.0),
            Map.entry("HOLDER_COUNT_UPDATED", 2.0), Map.entry("FAVORITE_TOGGLED", 2.0));

    private static OdinEventFactory factory(long seed) {
        return new OdinEventFactory(PublisherOptions.DEFAULT_TOKENS, PublisherOptions.DEFAULT_TOPICS,
                new SplittableRandom(seed));
    }

    @Test
    void tableCoversExactlyTheDocumentedTypes() {
        assertEquals(FIELDS.keySet().size(), OdinEventType.values().length);
        for (OdinEventType t : OdinEventType.values()) assertTrue(FIELDS.containsKey(t.name()), t.name());
        assertEquals(100.0, List.of(OdinEventType.values()).stream().mapToDouble(OdinEventType::weight).sum(), 1e-9);
    }

    @Test
    void everyTypeIsValidCompactJsonWithItsDocumentedFieldsAndTopic() {
        OdinEventFactory f = factory(7);
        for (int round = 0; round < 50; round++) { // repeat: state-dependent paths (first comment, pool floors)
            for (OdinEventType type : OdinEventType.values()) {
                for (String token : List.of("BTC", "DOGE", "ODIN")) {
                    ProducedEvent e = f.next(type, token, NOW);
                    String json = e.valueAsString();
                    assertFalse(json.replaceAll("\"(?:[^\"\\\\]|\\\\.)*\"", "\"\"").matches("(?s).*\\s.*"),
                            "compact (no whitespace outside strings): " + json);
                    JsonObject o = new JsonObject(json); // throws on invalid JSON
                    assertEquals(Set.of("type", "timestamp", "data"), o.fieldNames(), json);
                    assertEquals(type.name(), o.getString("type"));
                    assertEquals(NOW, o.getLong("timestamp"));
                    JsonObject data = o.getJsonObject("data");
                    assertEquals(FIELDS.get(type.name()), data.fieldNames(), json);
                    assertEquals(TOPIC.get(type.name()), e.topic(), type.name());
                    assertEquals(token, e.token());
                    assertEquals(type.name(), e.type());
                    checkValues(type, data, json);
                }
            }
        }
    }

    private static void checkValues(OdinEventType type, JsonObject d, String json) {
        for (String field : d.fieldNames()) {
            Object v = d.getValue(field);
            if (v instanceof Number n) assertTrue(Double.isFinite(n.doubleValue()), json);
        }
        switch (type) {
            case TRADE_EXECUTED, BUY_COMPLETED, SELL_COMPLETED -> {
                assertTrue(d.getDouble("price") > 0 && d.getDouble("amount") > 0, json);
                assertTrue(d.getString("txHash").matches("0x[0-9a-f]{64}"), json);
                assertTrue(d.getString("buyer").matches("0x[0-9a-f]{40}"), json);
                assertNotEquals(d.getString("buyer"), d.getString("seller"), json);
            }
            case TRANSFER_COMPLETED -> assertTrue(d.getString("txHash").matches("0x[0-9a-f]{64}"), json);
            case LIQUIDITY_ADDED, LIQUIDITY_REMOVED -> assertTrue(d.getDouble("totalLiquidity") > 0, json);
            case TOKEN_FLAGS_CHANGED -> {
                JsonObject flags = d.getJsonObject("flags");
                assertEquals(Set.of("verified", "featured", "trending"), flags.fieldNames(), json);
                flags.forEach(e -> assertInstanceOf(Boolean.class, e.getValue(), json));
            }
            case TWITTER_VERIFIED -> {
                assertInstanceOf(Boolean.class, d.getValue("verified"), json);
                assertEquals(NOW, d.getLong("verifiedAt"));
            }
            case COMMENT_POSTED, TOKEN_LISTED -> assertEquals(NOW, d.getLong("timestamp"));
            case FAVORITE_TOGGLED -> assertInstanceOf(Boolean.class, d.getValue("isFavorite"), json);
            case HOLDER_COUNT_UPDATED -> assertTrue(d.getLong("holderCount") >= 1, json);
            case TRENDING_UPDATED -> assertTrue(d.getInteger("rank") >= 1 && d.getInteger("rank") <= 100, json);
            default -> { }
        }
    }

    @Test
    void valueNeverRepeatsTheTokenIdAsAField() {
        OdinEventFactory f = factory(3);
        for (int i = 0; i < 10_000; i++) {
            JsonObject o = new JsonObject(f.next(NOW).valueAsString());
            assertFalse(o.containsKey("token") || o.getJsonObject("data").containsKey("token"));
        }
    }

    @Test
    void mixMatchesTheDocumentedWeights() {
        int n = 200_000;
        OdinEventFactory f = factory(42);
        Map<String, Integer> counts = new java.util.HashMap<>();
        Map<String, Integer> perToken = new java.util.HashMap<>();
        for (int i = 0; i < n; i++) {
            ProducedEvent e = f.next(NOW);
            counts.merge(e.type(), 1, Integer::sum);
            perToken.merge(e.token(), 1, Integer::sum);
        }
        double rare = 3.0 / 11;
        for (OdinEventType t : OdinEventType.values()) {
            double p = SHARE.getOrDefault(t.name(), rare) / 100;
            double observed = counts.getOrDefault(t.name(), 0) / (double) n;
            double tolerance = 5 * Math.sqrt(p * (1 - p) / n); // five standard deviations
            assertEquals(p, observed, tolerance, t.name());
            assertTrue(observed < 0.01 || SHARE.containsKey(t.name()), t.name() + " should be rare");
        }
        assertEquals(20, perToken.size());
        perToken.values().forEach(c -> assertEquals(n / 20.0, c, n / 20.0 * 0.05));
    }

    @Test
    void sameSeedSameStream() {
        OdinEventFactory a = factory(99), b = factory(99), c = factory(100);
        boolean differs = false;
        for (int i = 0; i < 1_000; i++) {
            ProducedEvent x = a.next(NOW + i), y = b.next(NOW + i), z = c.next(NOW + i);
            assertEquals(x.topic(), y.topic());
            assertEquals(x.token(), y.token());
            assertArrayEquals(x.value(), y.value());
            differs |= !java.util.Arrays.equals(x.value(), z.value());
        }
        assertTrue(differs);
    }

    @Test
    void pricesWalkButStayPlausible() {
        OdinEventFactory f = factory(5);
        double first = 0, min = Double.MAX_VALUE, max = 0;
        for (int i = 0; i < 100_000; i++) {
            double p = new JsonObject(f.next(OdinEventType.TRADE_EXECUTED, "BTC", NOW).valueAsString())
                    .getJsonObject("data").getDouble("price");
            if (i == 0) first = p;
            min = Math.min(min, p);
            max = Math.max(max, p);
        }
        assertTrue(max > min, "price moves");
        assertTrue(min > first * 0.5 && max < first * 2, "mean reversion keeps it near 65k: " + min + ".." + max);
    }

    @Test
    void unmappedCategoriesAreNotProducedAndWeightsRenormalise() {
        OdinEventFactory f = new OdinEventFactory(List.of("BTC"), Map.of("trades", "trade", "px", "analytics"),
                new SplittableRandom(1));
        Map<String, Integer> byTopic = new java.util.HashMap<>();
        for (int i = 0; i < 66_000; i++) byTopic.merge(f.next(NOW).topic(), 1, Integer::sum);
        assertEquals(Set.of("trades", "px"), byTopic.keySet());
        double analyticsShare = (7 + 2 + 7 + 3.0 / 11) / (50 + 7 + 2 + 7 + 3.0 / 11);
        assertEquals(analyticsShare, byTopic.get("px") / 66_000.0, 0.01);
        assertThrows(IllegalArgumentException.class, () -> f.next(OdinEventType.COMMENT_POSTED, "BTC", NOW));
        assertThrows(IllegalArgumentException.class, () -> f.next(OdinEventType.TRADE_EXECUTED, "ETH", NOW));
    }

    @Test
    void unknownTokensGetAProfile() {
        OdinEventFactory f = new OdinEventFactory(List.of("PEPE2"), PublisherOptions.DEFAULT_TOPICS,
                new SplittableRandom(1));
        JsonObject d = new JsonObject(f.next(OdinEventType.METADATA_UPDATED, "PEPE2", NOW).valueAsString())
                .getJsonObject("data");
        assertEquals("PEPE2", d.getString("symbol"));
        assertEquals("Pepe2 Token", d.getString("name"));
    }

    @Test
    void jsonWriterFormatsDecimalsAndEscapes() {
        JsonWriter w = new JsonWriter().reset().beginObject()
                .dec("a", 0.00012, 8).dec("b", -1.5, 2).dec("c", 65_000.0, 2).dec("d", -0.000000001, 4)
                .dec("e", 1.23456789e17, 2).str("s", "q\"\\\n").beginObject("o").bool("t", true).endObject()
                .num("n", 3).endObject();
        assertEquals("{\"a\":0.00012,\"b\":-1.5,\"c\":65000,\"d\":0,\"e\":123456789000000000,\"s\":\"q\\\"\\\\\\n\","
                + "\"o\":{\"t\":true},\"n\":3}", w.toString());
        JsonObject o = new JsonObject(w.toString());
        assertEquals("q\"\\\n", o.getString("s"));
    }

    @Test
    void walletsMakeTheAccountPartiesNamedUsers() {
        OdinEventFactory f = new OdinEventFactory(List.of("BTC"), Map.of("odin.balances", "balances"), new SplittableRandom(5),
                3, "user-");
        Set<String> seen = new java.util.HashSet<>();
        for (int i = 0; i < 300; i++) {
            ProducedEvent e = f.next(NOW);
            JsonObject d = new JsonObject(new String(e.value(), java.nio.charset.StandardCharsets.UTF_8)).getJsonObject("data");
            if (e.type().equals("BALANCE_UPDATED")) {
                seen.add(d.getString("user"));
            } else {
                assertEquals("TRANSFER_COMPLETED", e.type());
                assertNotEquals(d.getString("from"), d.getString("to"), "two parties");
                seen.add(d.getString("from"));
                seen.add(d.getString("to"));
            }
        }
        assertEquals(Set.of("user-0", "user-1", "user-2"), seen);
        // other wallets (trades) keep their addresses
        OdinEventFactory t = new OdinEventFactory(List.of("BTC"), Map.of("odin.trades", "trade"), new SplittableRandom(5), 3, "user-");
        String buyer = new JsonObject(new String(t.next(NOW).value(), java.nio.charset.StandardCharsets.UTF_8))
                .getJsonObject("data").getString("buyer");
        assertTrue(buyer.startsWith("0x"), buyer);
    }
}
