/**
 * A tiny typed event emitter (no dependency on Node's `events`), used by
 * {@link RaftNode} for `leaderChange` / `roleChange` / `removed`.
 */

/** Map of event name → listener argument tuple. */
export type EventMap = Record<string, readonly unknown[]>;

/** Listener of event `K`. */
export type Listener<E extends EventMap, K extends keyof E> = (...args: E[K]) => void;

/** Typed emitter. Listeners run synchronously, in registration order; a throwing listener does not stop the others. */
export class TypedEmitter<E extends EventMap> {
  private readonly listeners = new Map<keyof E, Array<Listener<E, keyof E>>>();

  /** Register `fn` for `event`; returns a function that unregisters it. */
  on<K extends keyof E>(event: K, fn: Listener<E, K>): () => void {
    let list = this.listeners.get(event);
    if (list === undefined) {
      list = [];
      this.listeners.set(event, list);
    }
    list.push(fn as Listener<E, keyof E>);
    return () => this.off(event, fn);
  }

  /** Register `fn` for the next `event` only. */
  once<K extends keyof E>(event: K, fn: Listener<E, K>): () => void {
    const off = this.on(event, ((...args: E[K]) => {
      off();
      fn(...args);
    }) as Listener<E, K>);
    return off;
  }

  /** Unregister `fn`. */
  off<K extends keyof E>(event: K, fn: Listener<E, K>): void {
    const list = this.listeners.get(event);
    if (list === undefined) return;
    const i = list.indexOf(fn as Listener<E, keyof E>);
    if (i >= 0) list.splice(i, 1);
  }

  /** Call every listener of `event` with `args`. Returns the first error a listener threw, if any. */
  emit<K extends keyof E>(event: K, ...args: E[K]): unknown {
    const list = this.listeners.get(event);
    if (list === undefined || list.length === 0) return undefined;
    let firstError: unknown;
    for (const fn of [...list]) {
      try {
        (fn as Listener<E, K>)(...args);
      } catch (err) {
        if (firstError === undefined) firstError = err;
      }
    }
    return firstError;
  }
}
