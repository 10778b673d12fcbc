package io.odinws.tools.loadtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class FrameScannerTest {
    private final FrameScanner s = new FrameScanner();

    private boolean scan(String json) {
        byte[] b = json.getBytes(StandardCharsets.UTF_8);
        return s.scan(b, 0, b.length);
    }

    @Test
    void theProtocolExample() {
        assertTrue(scan("{\"seq\":1042,\"ts\":1732000000456,\"type\":\"price:update\",\"priority\":1,\"channel\":\"BTC.trade\","
                + "\"pos\":\"3:1042\",\"data\":{\"type\":\"TRADE_EXECUTED\",\"timestamp\":1732000000450,"
                + "\"data\":{\"price\":42.17,\"amount\":512.3}}}"));
        assertEquals(1042, s.seq);
        assertEquals(1732000000456L, s.ts);
        assertEquals("price:update", s.type());
        assertTrue(s.typeIs(FrameScanner.ascii("price:update")));
        assertEquals(1, s.priority);
        assertEquals("BTC.trade", s.channel());
        assertEquals(3, s.posPartition);
        assertEquals(1042, s.posOffset);
        assertEquals(1732000000450L, s.eventTimestamp);
    }

    @Test
    void escapedStringsNestedObjectsAndSeqInsideValuesDoNotConfuseIt() {
        // data first; the payload has its own "timestamp", "seq" keys nested and inside strings, escaped quotes,
        // braces inside strings, arrays of objects, unicode escapes, and the value's timestamp comes last.
        String frame = "{ \"data\" : {\"type\":\"COMMENT_POSTED\",\"data\":{\"commentId\":\"cmt_1\",\"author\":\"x\\\"y\\\\\","
                + "\"content\":\"\\\"seq\\\":99,\\\"ts\\\":1} {[\\u00e9\",\"seq\":77,\"timestamp\":5,\"tags\":[{\"seq\":1},[2,3],\"}\"]},"
                + "\"seq\":\"not this\",\"timestamp\":1732000000999},\n \"channel\":\"DOGE.community\", \"pos\":\"11:5\","
                + " \"type\":\"price:update\", \"priority\":1, \"ts\":1732000001000, \"seq\":5 }";
        assertTrue(scan(frame));
        assertEquals(5, s.seq);
        assertEquals(1732000001000L, s.ts);
        assertEquals(1732000000999L, s.eventTimestamp, "the value's own timestamp, not the payload's");
        assertEquals("DOGE.community", s.channel());
        assertEquals(11, s.posPartition);
        assertEquals(5, s.posOffset);
    }

    @Test
    void replayAndOtherNumberShapes() {
        assertTrue(scan("{\"seq\":0,\"ts\":-1,\"type\":\"replay:message\",\"priority\":2,\"channel\":\"A.b\",\"pos\":\"0:0\","
                + "\"data\":{\"timestamp\":\"1732000000001\",\"price\":1.5e3}}"));
        assertEquals(0, s.seq);
        assertEquals(-1, s.ts);
        assertEquals(2, s.priority);
        assertEquals(1732000000001L, s.eventTimestamp, "a quoted timestamp is accepted");
        assertTrue(scan("{\"seq\":12.5,\"ts\":1e3,\"data\":[1,2],\"channel\":\"A.b\"}"));
        assertFalse(s.hasSeq(), "a fractional seq is not a seq");
        assertEquals(FrameScanner.ABSENT, s.ts);
        assertEquals(FrameScanner.ABSENT, s.eventTimestamp, "data that is not an object has no timestamp");
    }

    @Test
    void repliesHaveNoSeq() {
        assertTrue(scan("{\"type\":\"subscription_ack\",\"subscribed\":[\"BTC.trade\",\"ETH.trade\"],\"count\":2}"));
        assertFalse(s.hasSeq());
        assertTrue(s.typeIs(FrameScanner.ascii("subscription_ack")));
        assertFalse(s.typeIs(FrameScanner.ascii("subscription_ac")));
        assertTrue(scan("{\"type\":\"pong\",\"ts\":1732000000123}"));
        assertEquals("pong", s.type());
        assertEquals(1732000000123L, s.ts);
        assertTrue(scan("{\"type\":\"reconnect_ack\",\"status\":\"completed\",\"messages_replayed\":5,\"recovered\":true,"
                + "\"channels\":{\"BTC.trade\":{\"recovered\":true,\"replayed\":5}}}"));
        assertEquals("reconnect_ack", s.type());
        assertTrue(scan("{}"));
        assertNull(s.type());
    }

    @Test
    void malformedFramesAreRejected() {
        for (String bad : new String[] {"", "[1]", "{", "{\"seq\":1", "{\"seq\" 1}", "{\"seq\":1,}", "{\"a\":\"unterminated}",
                "{\"data\":{\"timestamp\":1}", "{\"a\":1} trailing", "{\"a\":{\"b\":[1,2}}"}) {
            assertFalse(scan(bad), bad);
        }
    }

    @Test
    void scansASliceOfALargerBuffer() {
        byte[] b = "xx{\"seq\":7,\"channel\":\"A.b\"}yy".getBytes(StandardCharsets.UTF_8);
        assertTrue(s.scan(b, 2, b.length - 2));
        assertEquals(7, s.seq);
        assertEquals("A.b", s.channel());
        ChannelTable t = new ChannelTable(java.util.List.of("X.y", "A.b"));
        assertEquals(1, t.indexOf(b, s.channelStart, s.channelEnd));
    }
}
