package io.odinws.shard;

import java.util.ArrayList;
import java.util.List;

/**
 * The server's side of the permessage-deflate negotiation (RFC 7692 section 5 and 7.1): from the
 * {@code Sec-WebSocket-Extensions} offers of an upgrade, the answer to send, or none.
 *
 * <p>Only context-free compression is accepted: every answer holds {@code server_no_context_takeover} (a message's
 * compressed frame must not depend on the connection, so it is built once and shared) and
 * {@code client_no_context_takeover} (an idle connection keeps no inflater). The JDK's Deflater always uses a
 * 15-bit window, so an offer asking for a smaller server window is declined. Anything else unexpected (an unknown
 * parameter, one given twice, a value where none belongs or a bad one) declines that offer, and the next one is
 * tried (5: "a server MUST decline an extension negotiation offer ... with an extension parameter not defined for
 * use in an offer, an invalid value, or the same parameter more than once").
 */
final class DeflateNegotiation {

  static final String EXTENSION = "permessage-deflate";
  /** The answer to an acceptable offer without {@code server_max_window_bits}. */
  static final String ANSWER = EXTENSION + "; server_no_context_takeover; client_no_context_takeover";
  /** The answer to one with {@code server_max_window_bits=15}: 7.1.2.1 accepts it only by answering it. */
  static final String ANSWER_WINDOW_15 = ANSWER + "; server_max_window_bits=15";

  private DeflateNegotiation() {
  }

  /**
   * @param headers every {@code Sec-WebSocket-Extensions} line of the request, in order (a list may span lines)
   * @return the {@code Sec-WebSocket-Extensions} answer for the first acceptable permessage-deflate offer; null
   *         when there is none (the connection then goes uncompressed)
   */
  static String answer(List<String> headers) {
    for (String header : headers) {
      for (List<String[]> offer : elements(header)) {
        if (offer != null && offer.get(0)[0].equalsIgnoreCase(EXTENSION)) {
          String answer = accept(offer);
          if (answer != null) {
            return answer;
          }
        }
      }
    }
    return null;
  }

  /** The answer to one offer (its first pair is the extension name), or null to decline it. */
  private static String accept(List<String[]> offer) {
    boolean serverNoContext = false;
    boolean clientNoContext = false;
    boolean serverBits = false;
    boolean clientBits = false;
    for (int i = 1; i < offer.size(); i++) {
      String name = offer.get(i)[0];
      String value = offer.get(i)[1];
      if (name.equalsIgnoreCase("server_no_context_takeover") && value == null && !serverNoContext) {
        serverNoContext = true;
      } else if (name.equalsIgnoreCase("client_no_context_takeover") && value == null && !clientNoContext) {
        clientNoContext = true;
      } else if (name.equalsIgnoreCase("server_max_window_bits") && !serverBits && windowBits(value) == 15) {
        serverBits = true; // smaller: the JDK's Deflater cannot narrow its window
      } else if (name.equalsIgnoreCase("client_max_window_bits") && !clientBits && (value == null || windowBits(value) > 0)) {
        clientBits = true; // the client may limit its window: our inflater takes any; nothing to answer (7.1.2.2)
      } else {
        return null;
      }
    }
    return serverBits ? ANSWER_WINDOW_15 : ANSWER;
  }

  /** 8 to 15 written as 7692 says (1*DIGIT without a leading zero, quoted or not); -1 for anything else. */
  private static int windowBits(String value) {
    if (value == null || value.isEmpty() || value.length() > 2 || value.charAt(0) == '0') {
      return -1;
    }
    int bits = 0;
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (c < '0' || c > '9') {
        return -1;
      }
      bits = bits * 10 + (c - '0');
    }
    return bits >= 8 && bits <= 15 ? bits : -1;
  }

  /**
   * One header line as its list elements (RFC 7230 7, RFC 6455 9.1): each element its name then its parameters,
   * each a {name, value} pair (value null when absent, unquoted when quoted); null for an element that does not
   * parse, so that one bad offer does not hide the others.
   */
  static List<List<String[]>> elements(String header) {
    List<List<String[]>> out = new ArrayList<>(2);
    int i = 0;
    int n = header.length();
    while (i <= n) {
      List<String[]> element = new ArrayList<>(4);
      boolean bad = false;
      // pairs separated by ';', the element ending at ',' or the end
      while (true) {
        i = skipSpace(header, i);
        int start = i;
        while (i < n && isTokenChar(header.charAt(i))) {
          i++;
        }
        String name = header.substring(start, i);
        String value = null;
        i = skipSpace(header, i);
        if (i < n && header.charAt(i) == '=') {
          i = skipSpace(header, i + 1);
          if (i < n && header.charAt(i) == '"') {
            StringBuilder quoted = new StringBuilder();
            i++;
            while (i < n && header.charAt(i) != '"') {
              if (header.charAt(i) == '\\' && i + 1 < n) {
                i++;
              }
              quoted.append(header.charAt(i++));
            }
            if (i >= n) {
              bad = true; // unterminated
            } else {
              i++;
            }
            value = quoted.toString();
          } else {
            int vs = i;
            while (i < n && isTokenChar(header.charAt(i))) {
              i++;
            }
            value = header.substring(vs, i);
            bad |= value.isEmpty();
          }
          i = skipSpace(header, i);
        }
        bad |= name.isEmpty();
        element.add(new String[] {name, value});
        if (i < n && header.charAt(i) == ';') {
          i++;
          continue;
        }
        if (i < n && header.charAt(i) != ',') {
          bad = true; // a stray character: skip to the next element
          while (i < n && header.charAt(i) != ',') {
            i++;
          }
        }
        break;
      }
      // empty list elements (",,") are allowed and ignored
      if (!(element.size() == 1 && element.get(0)[0].isEmpty() && element.get(0)[1] == null)) {
        out.add(bad ? null : element);
      }
      i++; // past the ',' (or the end)
    }
    return out;
  }

  private static int skipSpace(String s, int i) {
    while (i < s.length() && (s.charAt(i) == ' ' || s.charAt(i) == '\t')) {
      i++;
    }
    return i;
  }

  /** RFC 7230 tchar. */
  private static boolean isTokenChar(char c) {
    return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
  }
}
