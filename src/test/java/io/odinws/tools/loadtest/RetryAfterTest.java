package io.odinws.tools.loadtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import org.junit.jupiter.api.Test;

/** Reading a refusal's Retry-After, and the jittered wait the generator takes from it. */
class RetryAfterTest {

    @Test
    void secondsDatesAndNonsense() {
        assertEquals(5000, WsClientHandler.retryAfterMillis("5"));
        assertEquals(1000, WsClientHandler.retryAfterMillis(" 1 "));
        assertEquals(0, WsClientHandler.retryAfterMillis(null));
        assertEquals(0, WsClientHandler.retryAfterMillis("soon"));
        assertEquals(0, WsClientHandler.retryAfterMillis("-3"));
        assertEquals(3_600_000, WsClientHandler.retryAfterMillis("999999"), "capped at an hour");
        String inAMinute = ZonedDateTime.now(ZoneOffset.UTC).plusSeconds(60).format(DateTimeFormatter.RFC_1123_DATE_TIME);
        long ms = WsClientHandler.retryAfterMillis(inAMinute);
        assertTrue(ms > 50_000 && ms <= 60_000, inAMinute + " -> " + ms);
        String past = ZonedDateTime.now(ZoneOffset.UTC).minusSeconds(60).format(DateTimeFormatter.RFC_1123_DATE_TIME);
        assertEquals(0, WsClientHandler.retryAfterMillis(past));
    }

    @Test
    void theWaitIsRetryAfterPlusUpToHalfAsMuch() {
        assertEquals(2000, LoadRunner.retryAfterDelay(2000, 0));
        assertEquals(2500, LoadRunner.retryAfterDelay(2000, 0.5));
        assertTrue(LoadRunner.retryAfterDelay(2000, 0.999999) < 3000);
    }
}
