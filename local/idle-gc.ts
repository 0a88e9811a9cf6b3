/**
 * Gives memory back when the runtime is idle. V8 keeps the heap it grew under load and returns
 * it only when its memory reducer gets round to it, so a runtime that handled a burst could sit
 * at twice the memory it uses for a long time. When nothing has happened for `quietMs`, this
 * runs one full collection (once per quiet spell): the heap shrinks to what is live. It needs
 * node's `--expose-gc` (`npm start` passes it); without it, it does nothing.
 */
export function collectWhenIdle(quietMs: number): { touch(): void; stop(): void } {
  const gc = (globalThis as { gc?: () => void }).gc;
  let last = Date.now();
  let collected = false;
  const timer = setInterval(
    () => {
      if (!gc || collected || Date.now() - last < quietMs) return;
      collected = true;
      gc();
    },
    Math.max(100, quietMs / 4),
  );
  timer.unref();
  return {
    /** Something happened: the runtime is not idle. */
    touch() {
      last = Date.now();
      collected = false;
    },
    stop() {
      clearInterval(timer);
    },
  };
}
