import { useEffect, useRef } from 'preact/hooks';
import type { AppEvent } from './api.js';

const handlers = new Set<(e: AppEvent) => void>();

export function dispatch(e: AppEvent): void {
  for (const h of handlers) h(e);
}

/** Subscribes for the component's lifetime; the latest `fn` is always the one called. */
export function useAppEvent(fn: (e: AppEvent) => void): void {
  const ref = useRef(fn);
  ref.current = fn;
  useEffect(() => {
    const h = (e: AppEvent) => ref.current(e);
    handlers.add(h);
    return () => void handlers.delete(h);
  }, []);
}
