/**
 * A bounded pool of logged-in PKCS#11 sessions. A session runs one operation at a time (an EncryptInit
 * followed by its Encrypt must not interleave with another caller's), so each caller borrows a session
 * for the length of one operation. Sessions are opened lazily up to `max`; further callers wait in
 * FIFO order.
 *
 * Recovery: when the token drops our sessions (restart, C_CloseAllSessions, finalize/re-initialize,
 * logout), `reset()` forgets every session of the current generation without closing it: the token
 * has already dropped them, and a dead handle number may since have been reused for a live session of
 * another user of the same library, which C_CloseSession on the stale number would kill. Sessions
 * handed back from an older generation are forgotten the same way.
 */
/**
 * What becomes of a session whose operation threw: 'close' it (its state is unknown, e.g. an
 * operation may still be active), 'forget' it (the token dropped it already), or 'keep' it.
 */
export type AfterError = 'keep' | 'close' | 'forget';

export interface SessionFactory<S> {
  open(): S;
  /** Best effort: may throw, errors are ignored. */
  close(session: S): void;
}

interface Borrowed<S> {
  session: S;
  generation: number;
}

export class SessionPool<S> {
  readonly #factory: SessionFactory<S>;
  readonly #max: number;
  #idle: S[] = [];
  #open = 0;
  #generation = 0;
  #waiters: Array<() => void> = [];
  #closed = false;

  constructor(factory: SessionFactory<S>, max: number) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError('a session pool needs at least one session');
    this.#factory = factory;
    this.#max = max;
  }

  get openSessions(): number {
    return this.#open;
  }

  /** Bumped by every reset; lets a caller tell whether someone else already recovered. */
  get generation(): number {
    return this.#generation;
  }

  /**
   * Runs `fn` with a borrowed session and the pool generation it belongs to; the session returns to
   * the pool afterwards, even on error.
   */
  async use<T>(fn: (session: S, generation: number) => Promise<T> | T, afterError: (err: unknown) => AfterError = () => 'close'): Promise<T> {
    const borrowed = await this.#acquire();
    let result: T;
    try {
      result = await fn(borrowed.session, borrowed.generation);
    } catch (err) {
      const fate = afterError(err);
      if (fate === 'keep') this.#release(borrowed);
      else this.#drop(borrowed, fate === 'close');
      throw err;
    }
    this.#release(borrowed);
    return result;
  }

  /** Forgets every session; borrowed ones are forgotten when handed back (see the note above). */
  reset(): void {
    this.#generation++;
    this.#idle = [];
    this.#open = 0;
    for (const w of this.#waiters.splice(0)) w();
  }

  /** Closes the idle sessions and refuses further use; borrowed ones are closed when handed back. */
  close(): void {
    this.#closed = true;
    for (const s of this.#idle.splice(0)) this.#safeClose(s);
    this.#open = 0;
    for (const w of this.#waiters.splice(0)) w();
  }

  async #acquire(): Promise<Borrowed<S>> {
    for (;;) {
      if (this.#closed) throw new Error('the HSM session pool is closed');
      const idle = this.#idle.pop();
      if (idle !== undefined) return { session: idle, generation: this.#generation };
      if (this.#open < this.#max) {
        const generation = this.#generation;
        this.#open++;
        try {
          return { session: this.#factory.open(), generation };
        } catch (err) {
          if (generation === this.#generation) this.#open--;
          this.#wakeOne();
          throw err;
        }
      }
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
  }

  #release(b: Borrowed<S>): void {
    if (this.#closed) {
      this.#safeClose(b.session);
    } else if (b.generation !== this.#generation) {
      // Forgotten: see the note at the top.
    } else {
      this.#idle.push(b.session);
    }
    this.#wakeOne();
  }

  #drop(b: Borrowed<S>, close: boolean): void {
    if (b.generation === this.#generation) {
      this.#open--;
      if (close) this.#safeClose(b.session);
    }
    this.#wakeOne();
  }

  #wakeOne(): void {
    this.#waiters.shift()?.();
  }

  #safeClose(session: S): void {
    try {
      this.#factory.close(session);
    } catch {
      // The token may already have dropped it.
    }
  }
}
