/** Seconds in each unit Vault's durations take. */
const UNIT_SECONDS: Record<string, number> = {
  ns: 1e-9,
  us: 1e-6,
  µs: 1e-6,
  ms: 1e-3,
  s: 1,
  m: 60,
  h: 3600,
  d: 86400,
};

const DURATION = /^(?:(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h|d))+$/;
const PART = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h|d)/g;

/**
 * Reads a duration as Vault does: a number of seconds (`90`, `"90"`) or Go's
 * form with units (`"1h30m"`, `"1.5h"`, `"500ms"`), and days (`"7d"`).
 * Whole seconds, rounded down; undefined when it is neither form.
 *
 * @example
 * parseDuration('1h30m'); // 5400
 */
export const parseDuration = (value: unknown): number | undefined => {
  if (typeof value === 'number') {
    return Number.isFinite(value) ? Math.trunc(value) : undefined;
  }
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  if (text === '') return 0;
  const sign = text.startsWith('-') ? -1 : 1;
  const unsigned = text.replace(/^[-+]/, '');
  if (/^\d+$/.test(unsigned)) return sign * Number(unsigned);
  if (!DURATION.test(unsigned)) return undefined;
  let seconds = 0;
  for (const [, amount, unit] of unsigned.matchAll(PART)) {
    seconds += Number(amount) * (UNIT_SECONDS[unit as string] ?? 0);
  }
  return sign * Math.floor(seconds);
};

/**
 * Seconds in Go's way of writing a duration, as Vault's messages show
 * them: `768h0m0s`, `1m30s`, `45s`.
 */
export const formatDuration = (seconds: number) => {
  const hours = Math.floor(seconds / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  const rest = seconds % 60;
  if (hours > 0) return `${hours}h${minutes}m${rest}s`;
  if (minutes > 0) return `${minutes}m${rest}s`;
  return `${rest}s`;
};
