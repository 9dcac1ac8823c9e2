/**
 * How deeply a JSON text nests arrays and objects, found by one linear scan without recursion.
 * Relay-supplied JSON (NIP-11 documents, notices) is walked by recursive code further on
 * (canonical JSON, JSON.stringify), which overflows the stack at a few thousand levels: such
 * documents are refused before anyone walks them.
 */
export function jsonNestingExceeds(text: string, maxDepth: number): boolean {
  let depth = 0;
  let inString = false;
  for (let index = 0; index < text.length; index += 1) {
    const code = text.charCodeAt(index);
    if (inString) {
      if (code === 0x5c /* \ */) index += 1;
      else if (code === 0x22 /* " */) inString = false;
      continue;
    }
    if (code === 0x22) inString = true;
    else if (code === 0x5b /* [ */ || code === 0x7b /* { */) {
      depth += 1;
      if (depth > maxDepth) return true;
    } else if (code === 0x5d /* ] */ || code === 0x7d /* } */) depth -= 1;
  }
  return false;
}
