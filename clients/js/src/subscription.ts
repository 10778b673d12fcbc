import { Emitter } from "./emitter.js";
import type { SubscriptionEvents, SubscriptionState } from "./types.js";

/** @internal what a Subscription needs from its client */
export interface SubscriptionOwner {
  _unsubscribe(s: Subscription): void;
  _position(channel: string): string | undefined;
}

/** One channel the application asked for; it survives reconnects until unsubscribe() or a rejection. */
export class Subscription extends Emitter<SubscriptionEvents> {
  readonly channel: string;
  private _state: SubscriptionState = "subscribing";
  /** @internal subscribed on an earlier connection: a reconnect without a position is a gap */
  _live = false;
  /** @internal snapshot N asked for while the client has no position */
  _snap = 0;
  /** @internal its snapshot is being sent: snapshot messages are compared with each other, not with the position */
  _snapping = false;
  /** @internal pos of the last snapshot message delivered */
  _snapLast?: string;
  /** @internal */
  readonly _c: SubscriptionOwner;
  /** @internal exact channel (not BTC.* / *.trade) */
  readonly _exact: boolean;

  /** @internal created by OdinClient.subscribe */
  constructor(client: SubscriptionOwner, channel: string) {
    super();
    this._c = client;
    this.channel = channel;
    this._exact = !/(^|\.)\*$|^\*\./.test(channel);
  }

  get state(): SubscriptionState {
    return this._state;
  }

  /** The pos of the last message delivered (exact channels only). */
  get position(): string | undefined {
    return this._c._position(this.channel);
  }

  unsubscribe(): void {
    this._c._unsubscribe(this);
  }

  /** @internal */
  _set(state: SubscriptionState): void {
    const previous = this._state;
    if (previous !== state) {
      this._state = state;
      this._emit("state", { state, previous });
    }
  }
}
