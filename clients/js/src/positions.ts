/** A position: "<partition>:<offset>", or a bare offset (partition -1: unknown). Undefined when not a position. */
export function parsePos(pos: string | undefined): [number, number] | undefined {
  if (pos == null) return undefined;
  const i = pos.indexOf(":");
  const p = i < 0 ? -1 : +pos.slice(0, i);
  const o = +pos.slice(i + 1);
  return pos && Number.isInteger(p) && Number.isInteger(o) ? [p, o] : undefined;
}

/**
 * Whether a message at `pos` is new after `last` (the position kept for its channel): a greater offset of the
 * same partition, or any offset of another partition (the topic was re-partitioned).
 */
export function isAfter(pos: string, last: string | undefined): boolean {
  const a = parsePos(pos);
  const b = parsePos(last);
  return !a || !b || (b[0] !== -1 && a[0] !== b[0]) || a[1] > b[1];
}
