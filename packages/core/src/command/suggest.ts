// "Did you mean …?" for every name a user types: options of the three tools, commands of
// `mlops`, settings of an `mlops-train` config file, rules of a gate config.

/**
 * Edit distance of two short strings: insertions, deletions, substitutions and swaps of two
 * neighbours (Damerau's optimal string alignment), so that `prot` is one edit from `port`.
 */
function distance(a: string, b: string): number {
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    rows.push([i]);
    for (let j = 1; j <= b.length; j++) rows[i][j] = i === 0 ? j : 0;
  }
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(rows[i - 1][j] + 1, rows[i][j - 1] + 1, rows[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, rows[i - 2][j - 2] + 1);
      }
      rows[i][j] = best;
    }
  }
  return rows[a.length][b.length];
}

/** Case, `_`, `-` and spaces do not count: `max_depth`, `maxDepth` and `Max-Depth` are one name. */
function loose(text: string): string {
  return text.replace(/[_\-\s]/g, "").toLowerCase();
}

/**
 * The known name `word` was most likely meant to be: one that differs only in case, `_` or `-`,
 * else the closest within two edits (one edit for names of up to four letters, so that short
 * names do not all look alike). `undefined` when nothing is close.
 *
 * @example
 * closestName("trails", ["trials", "cv", "seed"]); // "trials"
 * closestName("prot", ["port", "host", "log"]); // "port"
 * closestName("banana", ["trials", "cv"]); // undefined
 */
export function closestName(word: string, known: Iterable<string>): string | undefined {
  const candidates = [...known];
  const exact = candidates.find((candidate) => loose(candidate) === loose(word));
  if (exact !== undefined) return exact;
  const limit = loose(word).length <= 4 ? 1 : 2;
  let best: string | undefined;
  let bestDistance = limit + 1;
  for (const candidate of candidates) {
    const d = distance(loose(word), loose(candidate));
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

/**
 * ` (did you mean "x"?)` to append to an error message, or "" when nothing is close. `quote`
 * writes the suggestion the way the user should type it (`--trials` for an option).
 *
 * @example
 * `unknown option "--trails"${didYouMean("trails", ["trials"], (name) => `--${name}`)}`;
 * // 'unknown option "--trails" (did you mean "--trials"?)'
 */
export function didYouMean(
  word: string,
  known: Iterable<string>,
  quote: (name: string) => string = (name) => name,
): string {
  const match = closestName(word, known);
  return match === undefined ? "" : ` (did you mean "${quote(match)}"?)`;
}
