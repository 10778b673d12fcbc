package io.odinws.protocol;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The Go server's {@code replay} request gets its own error, which says how to recover instead (PROTOCOL.md section 3). */
class ReplayRequestTest {

  @ParameterizedTest
  @ValueSource(strings = {
      "{\"type\":\"replay\",\"data\":{\"from\":10,\"to\":20}}",
      "{\"type\":\"replay\",\"data\":{\"from\":0}}",
      "{\"type\":\"replay\"}",
      "{\"type\":\"replay\",\"data\":\"10-20\"}"})
  void theOldReplayRequestIsAnsweredWithReplayUnsupportedNamingReconnect(String text) {
    ErrorReply error = assertInstanceOf(ClientRequest.Invalid.class, ClientRequest.parse(text)).error();
    assertEquals("REPLAY_UNSUPPORTED", error.code());
    assertTrue(error.message().contains("\"type\":\"reconnect\""), error.message());
    assertTrue(error.message().contains("\"last_offset\""), error.message());
  }

  @ParameterizedTest
  @ValueSource(strings = {"{\"type\":\"Replay\"}", "{\"type\":\"replays\"}"})
  void otherTypesStayUnknown(String text) {
    assertEquals("UNKNOWN_TYPE", assertInstanceOf(ClientRequest.Invalid.class, ClientRequest.parse(text)).error().code());
  }
}
