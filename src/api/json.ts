/** Database rows to JSON-ready values: timestamps as ISO strings, bigint counts as numbers. */
export function jsonRow<T extends object>(row: T): T {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(row))
    out[key] = value instanceof Date ? value.toISOString() : typeof value === 'bigint' ? Number(value) : value;
  return out as T;
}
