/** Node's setTimeout overflows (fires at once) past 2^31-1 ms, so long waits are chained. */
const MAX_TIMER_MS = 2_147_483_647;

export interface LongTimer {
  clear(): void;
}

/** Calls `fn` at the epoch millisecond `at` (at once when it has passed), for any distance in the future. */
export function setTimerAt(at: number, fn: () => void): LongTimer {
  let handle: NodeJS.Timeout | undefined;
  let cleared = false;
  const tick = (): void => {
    if (cleared) return;
    const left = at - Date.now();
    if (left <= 0) {
      handle = undefined;
      fn();
      return;
    }
    handle = setTimeout(tick, Math.min(left, MAX_TIMER_MS));
  };
  handle = setTimeout(tick, Math.max(0, Math.min(at - Date.now(), MAX_TIMER_MS)));
  return {
    clear() {
      cleared = true;
      if (handle) clearTimeout(handle);
    },
  };
}
