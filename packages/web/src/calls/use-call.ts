import { useEffect, useState } from 'preact/hooks';
import type { CallEngine } from './call-engine.js';
import type { CallView } from './call-types.js';

/** The engine's view, re-rendered on every change. */
export function useCallView(engine: CallEngine): CallView {
  const [v, setV] = useState(engine.view);
  useEffect(() => engine.subscribe(setV), [engine]);
  return v;
}

/** Seconds since `from`, ticking once a second while `from` is set. */
export function useElapsed(from: number | null): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    if (from === null) return;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [from]);
  return from === null ? 0 : Math.max(0, Math.floor((now - from) / 1000));
}

/** "0:05", "1:02:03". */
export function clock(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = String(seconds % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}
