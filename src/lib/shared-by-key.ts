/** One user's share of a value held by a {@link SharedByKey}. */
export interface SharedHandle<T> {
  readonly value: T;
  /**
   * Gives this share back; the last share's release removes the value and
   * closes it, resolving when the close has. Idempotent.
   */
  release(): Promise<void>;
  /**
   * Stops lending this value to new users (the next `acquire` of its key
   * creates a fresh one), then releases this share; users that still hold
   * the value keep it until the last of them releases.
   */
  discard(): Promise<void>;
}

interface Entry<T> {
  readonly value: T;
  users: number;
}

/** Values shared by key, counted by user: created by the first user, closed with the last one's release. */
export class SharedByKey<T> {
  readonly #entries = new Map<string, Entry<T>>();
  readonly #close: (value: T) => void | Promise<void>;

  /** `close` ends a value once nobody holds it (a sync `close` runs before `release` returns). */
  constructor(close: (value: T) => void | Promise<void>) {
    this.#close = close;
  }

  /** A share of the value for `key`, made by `create` when nobody holds one. */
  acquire(key: string, create: () => T): SharedHandle<T> {
    let entry = this.#entries.get(key);
    if (entry === undefined) {
      entry = { value: create(), users: 0 };
      this.#entries.set(key, entry);
    }
    entry.users += 1;
    const held = entry;
    let released = false;
    const release = (): Promise<void> => {
      if (released) return Promise.resolve();
      released = true;
      held.users -= 1;
      if (held.users > 0) return Promise.resolve();
      this.#forget(key, held);
      return Promise.resolve(this.#close(held.value));
    };
    return {
      value: held.value,
      release,
      discard: () => {
        this.#forget(key, held);
        return release();
      },
    };
  }

  /** How many values are held, for tests. */
  get size(): number {
    return this.#entries.size;
  }

  #forget(key: string, entry: Entry<T>): void {
    if (this.#entries.get(key) === entry) this.#entries.delete(key);
  }
}
