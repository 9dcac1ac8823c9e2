/** Tag helpers. Only the first value (index 1) of a single-letter tag is indexed by relays (NIP-01). */
const SINGLE_LETTER = /^[a-zA-Z]$/;

export interface TagValue {
  name: string;
  value: string;
}

/** First values of single-letter tags, deduplicated, in order of first appearance. */
export function singleLetterTagValues(tags: string[][]): TagValue[] {
  const seen = new Set<string>();
  const values: TagValue[] = [];
  for (const tag of tags) {
    const [name, value] = tag;
    if (name === undefined || value === undefined || !SINGLE_LETTER.test(name)) continue;
    const key = `${name}:${value}`;
    if (seen.has(key)) continue;
    seen.add(key);
    values.push({ name, value });
  }
  return values;
}

/** Values of every tag with this name (index 1). */
export function tagValuesNamed(tags: string[][], name: string): string[] {
  return tags.filter((tag) => tag[0] === name && tag[1] !== undefined).map((tag) => tag[1] as string);
}
