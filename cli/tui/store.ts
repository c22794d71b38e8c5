// State that key handlers change synchronously and React only draws: a handler always reads the state as it is
// at the moment of its key (after every key before it), never a copy captured at the last render.
import { useSyncExternalStore } from 'react';

export class Store<S extends object> {
  private readonly listeners = new Set<() => void>();

  constructor(private current: S) {}

  get state(): S {
    return this.current;
  }

  /** A new state object (React compares by identity), then the listeners. */
  protected update(change: Partial<S>): void {
    this.current = { ...this.current, ...change };
    for (const l of this.listeners) l();
  }

  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  };
}

export function useStore<S extends object>(store: Store<S>): S {
  return useSyncExternalStore(store.subscribe, () => store.state);
}
