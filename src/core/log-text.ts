/**
 * The one rule for printing a value that did not come from our own code (a
 * token's claims, anything a server returns, an input or environment value
 * echoed back): the Azure Pipelines agent obeys a `##vso[` logging command
 * anywhere in a line of a step's output, and formats a line that starts with
 * `##[`. So the text becomes one inert line: control characters (line breaks
 * included, C1 too) become a space, bidirectional overrides and invisible
 * marks that make a log show other text than it holds are removed, and every
 * `##vso[` and `##[` left is broken up. Pure, so the tasks and mi-token share it.
 */

/** C0 and C1 controls, DEL, and the Unicode line and paragraph separators: each run becomes one space. */
// eslint-disable-next-line no-control-regex
const CONTROLS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g;

/** Bidirectional embeddings, overrides and isolates, directional and zero-width marks, the byte order mark: removed. */
const INVISIBLE = /[\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/g;

/** `##vso[` (what the agent obeys) and `##[` (what it formats), in any case. */
const MARKERS = /##(vso)?\[/gi;

/** `text` as one line a log may show: nothing in it is obeyed or formatted by the agent, nothing hides what it says. */
export function inertLogText(text: string): string {
  // Removed first, then broken up: "##v\u200bso[" must not become a marker once the mark is gone.
  return text
    .replace(CONTROLS, ' ')
    .replace(INVISIBLE, '')
    .replace(MARKERS, (m) => (m.length > 3 ? `##_${m.slice(2)}` : '##_['));
}
