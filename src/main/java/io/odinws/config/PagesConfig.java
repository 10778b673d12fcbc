package io.odinws.config;

import java.util.List;

/**
 * The pages the operations port serves (issue 16): the live market page, the operator page, the SDK's
 * browser bundle and the two JSON endpoints behind them. Off: those paths answer 404 like any unknown one.
 *
 * @param enabled      serve them
 * @param marketTokens the tokens the market page shows, each subscribed as {@code <token>.trade}
 */
public record PagesConfig(boolean enabled, List<String> marketTokens) {

  /**
   * The built-in {@code pages.marketTokens}: the demo publisher's tokens, so that the market page shows what
   * {@code make run} publishes. Read from {@code conf/default.json}, the one place the list is written.
   */
  public static final List<String> DEMO_TOKENS = ConfigLoader.defaults().getJsonObject("pages").getJsonArray("marketTokens")
      .stream().map(String.class::cast).toList();

  public PagesConfig {
    marketTokens = List.copyOf(marketTokens);
  }
}
