/** Tag helpers. Only the first value (index 1) of a single-letter tag is indexed by relays (NIP-01). */

/** A single-letter tag name (a-z, A-Z): the tags relays index. By character code: this runs per tag of every stored event. */
export function isSingleLetterTagName(name: string): boolean {
  if (name.length !== 1) return false;
  const letter = name.charCodeAt(0) | 0x20; // A-Z to a-z; nothing else lands in a-z
  return letter >= 0x61 && letter <= 0x7a;
}

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
    if (name === undefined || value === undefined || !isSingleLetterTagName(name)) continue;
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
