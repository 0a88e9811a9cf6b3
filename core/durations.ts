import { z } from 'zod';

const UNITS = { s: 1, m: 60, h: 3600, d: 86_400 } as const;

/** A duration as people write it in the configuration: `30s`, `30m`, `2h`, `1d`. */
export const DurationText = z
  .string()
  .regex(/^[1-9][0-9]{0,5}[smhd]$/, 'a duration is a whole number and a unit: 30s, 30m, 2h, 1d');

/** `30m` → 1800 (seconds). Throws on anything DurationText refuses. */
export function parseDuration(text: string): number {
  const match = /^([1-9][0-9]{0,5})([smhd])$/.exec(text);
  if (!match) throw new Error(`not a duration: "${text.slice(0, 20)}"`);
  return Number(match[1]) * UNITS[match[2] as keyof typeof UNITS];
}
