package io.odinws.shard;

import org.junit.jupiter.api.Test;

import java.util.List;

import static io.odinws.shard.DeflateNegotiation.ANSWER;
import static io.odinws.shard.DeflateNegotiation.ANSWER_WINDOW_15;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/** The permessage-deflate answers (RFC 7692 5 and 7.1) for the offers clients send, and the ones they should not. */
class DeflateNegotiationTest {

  private static String answer(String... headers) {
    return DeflateNegotiation.answer(List.of(headers));
  }

  @Test
  void noOfferNoAnswer() {
    assertNull(DeflateNegotiation.answer(List.of()));
    assertNull(answer(""));
    assertNull(answer("x-webkit-deflate-frame"));
  }

  @Test
  void whatBrowsersOfferIsAcceptedContextFree() {
    assertEquals(ANSWER, answer("permessage-deflate; client_max_window_bits"), "Chrome, Safari");
    assertEquals(ANSWER, answer("permessage-deflate"), "Firefox");
    assertEquals(ANSWER, answer("permessage-deflate; client_max_window_bits=10"));
    assertEquals(ANSWER, answer("permessage-deflate; client_max_window_bits=\"10\""), "quoted values unquote (7.1.2.2)");
    assertEquals(ANSWER, answer("Permessage-Deflate ;Client_No_Context_Takeover ; server_no_context_takeover"));
  }

  @Test
  void aServerWindowUnder15IsDeclinedAnd15IsAnswered() {
    assertNull(answer("permessage-deflate; server_max_window_bits=10"));
    assertNull(answer("permessage-deflate; server_max_window_bits"), "it needs a value");
    assertEquals(ANSWER_WINDOW_15, answer("permessage-deflate; server_max_window_bits=15"));
  }

  @Test
  void unknownDuplicatedOrBadParametersDeclineTheOffer() {
    assertNull(answer("permessage-deflate; foo"));
    assertNull(answer("permessage-deflate; foo=1"));
    assertNull(answer("permessage-deflate; client_no_context_takeover; client_no_context_takeover"));
    assertNull(answer("permessage-deflate; client_max_window_bits; client_max_window_bits=10"));
    assertNull(answer("permessage-deflate; client_max_window_bits=7"));
    assertNull(answer("permessage-deflate; client_max_window_bits=16"));
    assertNull(answer("permessage-deflate; client_max_window_bits=09"));
    assertNull(answer("permessage-deflate; client_max_window_bits=abc"));
    assertNull(answer("permessage-deflate; server_no_context_takeover=1"));
    assertNull(answer("permessage-deflate; client_max_window_bits=\"10"), "unterminated quote");
  }

  @Test
  void theFirstAcceptableOfSeveralOffersWins() {
    assertEquals(ANSWER, answer("permessage-deflate; server_max_window_bits=10, permessage-deflate; client_max_window_bits"));
    assertEquals(ANSWER_WINDOW_15, answer("permessage-deflate; foo, permessage-deflate; server_max_window_bits=15, permessage-deflate"));
    assertEquals(ANSWER, answer("x-other; a=\"1,2\", permessage-deflate"), "a comma inside quotes does not split");
    assertEquals(ANSWER, answer("permessage-deflate; server_max_window_bits=9", "permessage-deflate"), "across header lines");
    assertNull(answer("permessage-deflate; server_max_window_bits=9, permessage-deflate; bar"));
  }
}
