/**
 * Typed Odin events: the Kafka record values carried in data messages (docs/protocol.md section 2).
 * Each is {type, timestamp, data}; OdinEvent is the discriminated union on `type`, with a fallback for
 * event types this SDK does not know (a deployment may add topics).
 */

/** One event type (distributive: Ev<"A" | "B", D> is Ev<"A", D> | Ev<"B", D>, so that `type` narrows). */
type Ev<T extends string, D> = T extends string
  ? {
      type: T;
      /** event time, Unix milliseconds */
      timestamp: number;
      data: D;
    }
  : never;

export interface TradeData { price: number; amount: number; buyer: string; seller: string; txHash: string }
export interface LiquidityData { amount: number; provider: string; totalLiquidity: number }
export interface LiquidityRebalancedData { oldRatio: number; newRatio: number; totalLiquidity: number }
export interface MetadataData { name: string; symbol: string; description: string }
export interface TokenFlagsData { flags: { verified: boolean; featured: boolean; trending: boolean } }
export interface TwitterVerifiedData { twitterHandle: string; verified: boolean; verifiedAt: number | string }
export interface SocialLinksData { twitter: string; telegram: string; website: string }
export interface CommentPostedData { commentId: string; author: string; content: string; timestamp: number }
export interface CommentPinnedData { commentId: string; pinnedBy: string }
export interface CommentUpvotedData { commentId: string; voter: string; totalUpvotes: number }
export interface FavoriteToggledData { userId: string; isFavorite: boolean }
export interface TokenCreatedData { creator: string; name: string; symbol: string; supply: number }
export interface TokenListedData { exchange: string; initialPrice: number; timestamp: number }
export interface PriceDeltaData { price: number; delta1h: number; delta24h: number; delta7d: number }
export interface HolderCountData { holderCount: number; change: number }
export interface AnalyticsData { volume24h: number; marketCap: number; liquidity: number }
export interface TrendingData { rank: number; score: number }
export interface BalanceData { user: string; balance: number; change: number }
export interface TransferData { from: string; to: string; amount: number; txHash: string }

export type TradeEvent = Ev<"TRADE_EXECUTED" | "BUY_COMPLETED" | "SELL_COMPLETED", TradeData>;
export type LiquidityEvent =
  | Ev<"LIQUIDITY_ADDED" | "LIQUIDITY_REMOVED", LiquidityData>
  | Ev<"LIQUIDITY_REBALANCED", LiquidityRebalancedData>;
export type MetadataEvent =
  | Ev<"METADATA_UPDATED" | "TOKEN_NAME_CHANGED", MetadataData>
  | Ev<"TOKEN_FLAGS_CHANGED", TokenFlagsData>;
export type SocialEvent = Ev<"TWITTER_VERIFIED", TwitterVerifiedData> | Ev<"SOCIAL_LINKS_UPDATED", SocialLinksData>;
export type CommunityEvent =
  | Ev<"COMMENT_POSTED", CommentPostedData>
  | Ev<"COMMENT_PINNED", CommentPinnedData>
  | Ev<"COMMENT_UPVOTED", CommentUpvotedData>
  | Ev<"FAVORITE_TOGGLED", FavoriteToggledData>;
export type CreationEvent = Ev<"TOKEN_CREATED", TokenCreatedData> | Ev<"TOKEN_LISTED", TokenListedData>;
export type AnalyticsEvent =
  | Ev<"PRICE_DELTA_UPDATED", PriceDeltaData>
  | Ev<"HOLDER_COUNT_UPDATED", HolderCountData>
  | Ev<"ANALYTICS_RECALCULATED", AnalyticsData>
  | Ev<"TRENDING_UPDATED", TrendingData>;
export type BalanceEvent = Ev<"BALANCE_UPDATED", BalanceData> | Ev<"TRANSFER_COMPLETED", TransferData>;

/** Every known Odin event type. */
export type KnownOdinEvent =
  | TradeEvent
  | LiquidityEvent
  | MetadataEvent
  | SocialEvent
  | CommunityEvent
  | CreationEvent
  | AnalyticsEvent
  | BalanceEvent;

export type OdinEventType = KnownOdinEvent["type"];

/** An event of a type this SDK does not know. */
export interface UnknownOdinEvent {
  type: string;
  timestamp?: number;
  data?: unknown;
}

export type OdinEvent = KnownOdinEvent | UnknownOdinEvent;

/** Narrows an event to a known type: `if (isEvent(m.data, "TRADE_EXECUTED")) m.data.data.price`. */
export function isEvent<T extends OdinEventType>(e: OdinEvent, type: T): e is Extract<KnownOdinEvent, { type: T }> {
  return e.type === type;
}
