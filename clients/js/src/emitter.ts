/** A listener's exception must not break the client: it is rethrown on its own task, where the application sees it. */
export class Emitter<M> {
  private _l: { [K in keyof M]?: Array<(e: M[K]) => void> } = {};

  /** Adds a listener; returns the function that removes it. */
  on<K extends keyof M>(event: K, fn: (e: M[K]) => void): () => void {
    (this._l[event] ||= []).push(fn);
    return () => {
      const a = this._l[event];
      if (a) this._l[event] = a.filter((f) => f !== fn);
    };
  }

  /** @internal */
  _emit<K extends keyof M>(event: K, e: M[K]): void {
    for (const fn of this._l[event] || []) {
      try {
        fn(e);
      } catch (err) {
        setTimeout(() => {
          throw err;
        });
      }
    }
  }
}
