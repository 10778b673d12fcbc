package io.odinws.tools.publish;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.random.RandomGenerator;

/**
 * Produces realistic Odin market events: event type drawn by weight, token uniformly, payload from each
 * token's evolving state. Deterministic for a given random generator state. Not thread-safe (one per
 * producer thread): it reuses a single JSON buffer.
 */
public final class OdinEventFactory {
    private final List<String> tokens;
    private final TokenState[] states;
    private final Market market;
    private final Map<String, String> topicByCategory = new HashMap<>();
    /** Enabled types (category mapped to a topic) with cumulative weights, for weighted draws. */
    private final OdinEventType[] types;
    private final double[] cumulative;
    private final JsonWriter json = new JsonWriter();

    /**
     * @param tokens          token ids used as record keys
     * @param topicToCategory topic name to category (see {@link OdinEventType#CATEGORIES}); types whose
     *                        category has no topic are not produced, and the remaining weights renormalise
     * @param rng             the only source of randomness
     */
    public OdinEventFactory(List<String> tokens, Map<String, String> topicToCategory, RandomGenerator rng) {
        this(tokens, topicToCategory, rng, 0, "");
    }

    /**
     * @param wallets      0: account events name random wallets; N: {@code walletPrefix + 0..N-1}
     * @param walletPrefix see {@code wallets}
     */
    public OdinEventFactory(List<String> tokens, Map<String, String> topicToCategory, RandomGenerator rng, int wallets,
                            String walletPrefix) {
        if (tokens.isEmpty()) throw new IllegalArgumentException("at least one token is needed");
        topicToCategory.forEach((topic, category) -> {
            if (!OdinEventType.CATEGORIES.contains(category)) {
                throw new IllegalArgumentException("unknown category '" + category + "' for topic '" + topic
                        + "'; accepted: " + OdinEventType.CATEGORIES);
            }
            if (topicByCategory.putIfAbsent(category, topic) != null) {
                throw new IllegalArgumentException("category '" + category + "' is mapped to more than one topic");
            }
        });
        this.tokens = List.copyOf(tokens);
        this.market = new Market(rng, wallets, walletPrefix);
        this.states = new TokenState[this.tokens.size()];
        for (int i = 0; i < states.length; i++) states[i] = new TokenState(this.tokens.get(i), rng);

        List<OdinEventType> enabled = new ArrayList<>();
        for (OdinEventType t : OdinEventType.values()) {
            if (topicByCategory.containsKey(t.category())) enabled.add(t);
        }
        if (enabled.isEmpty()) throw new IllegalArgumentException("no topic is mapped to any category");
        this.types = enabled.toArray(OdinEventType[]::new);
        this.cumulative = new double[types.length];
        double sum = 0;
        for (int i = 0; i < types.length; i++) cumulative[i] = sum += types[i].weight();
    }

    /** A factory for the options' tokens and topics, seeded with the options' seed. */
    public static OdinEventFactory create(PublisherOptions options) {
        return new OdinEventFactory(options.tokens(), options.topics(), new SplittableRandom(options.seed()), options.wallets(),
                options.walletPrefix());
    }

    /** The next event of the mix, stamped with {@code nowMillis} (production time). */
    public ProducedEvent next(long nowMillis) {
        int token = market.rng.nextInt(states.length);
        return build(pickType(), states[token], nowMillis);
    }

    /** An event of the given type for the given token (must be one of this factory's tokens). */
    public ProducedEvent next(OdinEventType type, String token, long nowMillis) {
        int i = tokens.indexOf(token);
        if (i < 0) throw new IllegalArgumentException("unknown token '" + token + "'");
        if (!topicByCategory.containsKey(type.category())) {
            throw new IllegalArgumentException("no topic for category '" + type.category() + "'");
        }
        return build(type, states[i], nowMillis);
    }

    /** The types this factory produces (those whose category has a topic). */
    public List<OdinEventType> enabledTypes() {
        return List.of(types);
    }

    /** The topic events of {@code type} go to, or null if its category is not mapped. */
    public String topicOf(OdinEventType type) {
        return topicByCategory.get(type.category());
    }

    private OdinEventType pickType() {
        double u = market.rng.nextDouble() * cumulative[cumulative.length - 1];
        for (int i = 0; i < cumulative.length - 1; i++) { // most frequent types come first: short scan
            if (u < cumulative[i]) return types[i];
        }
        return types[types.length - 1];
    }

    private ProducedEvent build(OdinEventType type, TokenState token, long nowMillis) {
        json.reset().beginObject().str("type", type.name()).num("timestamp", nowMillis).beginObject("data");
        type.payload().write(market, token, json, nowMillis);
        json.endObject().endObject();
        return new ProducedEvent(topicByCategory.get(type.category()), token.symbol, type.name(), json.toBytes());
    }
}
