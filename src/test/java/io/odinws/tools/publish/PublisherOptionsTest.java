package io.odinws.tools.publish;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PublisherOptionsTest {
    private static PublisherOptions parse(String... args) {
        return PublishCommand.parse(args, Map.of());
    }

    private static void rejects(String option, String accepted, String... args) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> parse(args));
        assertTrue(e.getMessage().contains(option), e.getMessage());
        assertTrue(e.getMessage().contains(accepted), e.getMessage());
    }

    @Test
    void defaults() {
        PublisherOptions o = parse();
        assertEquals("localhost:9092", o.bootstrap());
        assertEquals(100, o.rate());
        assertEquals(20, o.tokens().size());
        assertEquals("BTC", o.tokens().get(0));
        assertEquals(0, o.durationSeconds());
        assertEquals(0, o.maxEvents());
        assertEquals(8, o.topics().size());
        assertEquals("trade", o.topics().get("odin.trades"));
        assertEquals("balances", o.topics().get("odin.balances"));
    }

    @Test
    void kafkaBrokersEnvIsTheDefaultBootstrapAndTheFlagWins() {
        assertEquals("kafka:29092", PublishCommand.parse(new String[0], Map.of("KAFKA_BROKERS", "kafka:29092")).bootstrap());
        assertEquals("h:1", PublishCommand.parse(new String[] {"--bootstrap", "h:1"},
                Map.of("KAFKA_BROKERS", "kafka:29092")).bootstrap());
    }

    @Test
    void acceptsEveryOptionInBothForms() {
        PublisherOptions o = parse("--bootstrap", "b1:9092,b2:9093", "--rate", "100000", "--tokens", "BTC, ETH,SOL",
                "--duration=30", "--seed", "-7", "--max-events", "500", "--topics", "t1=trade,t2=analytics");
        assertEquals("b1:9092,b2:9093", o.bootstrap());
        assertEquals(100_000, o.rate());
        assertEquals(List.of("BTC", "ETH", "SOL"), o.tokens());
        assertEquals(30, o.durationSeconds());
        assertEquals(-7, o.seed());
        assertEquals(500, o.maxEvents());
        assertEquals(Map.of("t1", "trade", "t2", "analytics"), o.topics());
        assertEquals(1, parse("--rate=1").rate());
        assertEquals("[::1]:9092,h:1", parse("--bootstrap", "[::1]:9092,h:1").bootstrap());
    }

    @Test
    void rejectsBadValuesNamingTheOptionAndTheAcceptedValues() {
        rejects("--rate", "1..100000", "--rate", "0");
        rejects("--rate", "1..100000", "--rate", "100001");
        rejects("--rate", "'fast' is not an int", "--rate", "fast");
        rejects("--duration", ">= 0", "--duration", "-1");
        rejects("--max-events", ">= 0", "--max-events", "-1");
        rejects("--max-events", "'x' is not a long", "--max-events", "x");
        rejects("--seed", "'1.5' is not a long", "--seed", "1.5");
        rejects("--bootstrap", "HOST:PORT", "--bootstrap", "localhost");
        rejects("--tokens", "[A-Za-z0-9._-]", "--tokens", "BTC,,ETH");
        rejects("--tokens", "distinct", "--tokens", "BTC,BTC");
        rejects("--topics", "TOPIC=CATEGORY", "--topics", "odin.trades");
        rejects("--topics", "trade, liquidity", "--topics", "odin.x=nonsense");
        rejects("--topics", "more than one topic", "--topics", "a=trade,b=trade");
        rejects("--rate", "Missing required parameter", "--rate");
        rejects("--frobnicate", "Unknown option", "--frobnicate", "1");
    }

    @Test
    void helpPrintsUsageAndReturnsNull() {
        PrintStream original = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true));
        try {
            assertNull(parse("--rate", "5", "--help"));
        } finally {
            System.setOut(original);
        }
        assertTrue(out.toString().contains("--rate=N"), out.toString());
    }

    @Test
    void recordValidatesToo() {
        assertThrows(IllegalArgumentException.class, () -> new PublisherOptions("h:1", 0, List.of("A"), 0,
                PublisherOptions.DEFAULT_TOPICS, 1, 0));
        assertThrows(IllegalArgumentException.class, () -> new PublisherOptions("h:1", 1, List.of(), 0,
                PublisherOptions.DEFAULT_TOPICS, 1, 0));
    }

    @Test
    void walletsNameTheAccountPartiesForPrivateChannels() {
        PublisherOptions d = parse();
        assertEquals(0, d.wallets(), "random addresses by default");
        PublisherOptions o = parse("--wallets", "10000", "--wallet-prefix", "u-");
        assertEquals(10000, o.wallets());
        assertEquals("u-", o.walletPrefix());
        assertEquals("user-", parse("--wallets", "2").walletPrefix());
        rejects("--wallets", "2..", "--wallets", "1");
        rejects("--wallet-prefix", "[A-Za-z0-9", "--wallets", "5", "--wallet-prefix", "a b");
    }
}
