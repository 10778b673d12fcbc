export { OdinClient } from "./client.js";
export { Subscription } from "./subscription.js";
export { backoffDelay } from "./backoff.js";
export { parsePos, isAfter } from "./positions.js";
export { isEvent } from "./events.js";
export type * from "./events.js";
export type {
  ConnectionState,
  SubscriptionState,
  WebSocketLike,
  WebSocketConstructor,
  ClientOptions,
  OdinMessage,
  Gap,
  Recovery,
  SubscribeOptions,
  SnapshotResult,
  Snapshot,
  SnapshotAck,
  Disconnect,
  ClientError,
  ClientEvents,
  SubscriptionEvents,
} from "./types.js";
