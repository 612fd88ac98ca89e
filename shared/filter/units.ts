/**
 * UTF-16 code-unit helpers shared by the normaliser and the automaton.
 */

/** Builds a string from units[from, to) without spreading huge argument lists. */
export function unitsToString(units: Uint16Array, from: number, to: number): string {
  let out = '';
  for (let i = from; i < to; i += 4096) {
    out += String.fromCharCode(...units.subarray(i, Math.min(to, i + 4096)));
  }
  return out;
}
