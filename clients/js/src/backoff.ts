/**
 * Full-jitter backoff (docs/protocol.md section 12): before attempt n (from 0), a random time
 * in [0, min(max, base * 2^n)].
 */
export function backoffDelay(attempt: number, base: number, max: number, random: () => number = Math.random): number {
  return random() * Math.min(max, base * 2 ** attempt);
}
