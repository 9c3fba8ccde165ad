/**
 * Rebuilds a code listing from a PDF-to-text dump, as found in shared/seeds.
 *
 * What the dump does to a listing (observed in seeds/004, chapter 11):
 * - every printed line is followed by an empty separator line, and carries one trailing space;
 * - a line the PDF wrapped in the middle of a word ends WITHOUT that trailing space
 *   (`class="form-control form-` / `group"`), so the two halves join with nothing between;
 * - a line the PDF wrapped at a space keeps its trailing space; in HTML that happens inside a
 *   tag (`placeholder="username ` / `to call" />`), in JavaScript before an argument list
 *   (`..., function ` / `(myStream) {`);
 * - where the separator is missing, the dump adds one space of indentation to the next line;
 * - a page break leaves the running header and the page number (`WebRTC` / `104`) between two
 *   lines of code, followed by a few whitespace-only lines;
 * - a whitespace-only line is a blank line of the original listing (or page padding).
 */

export type ListingLanguage = 'html' | 'js';

export interface ListingOptions {
  language: ListingLanguage;
  /** Running page headers of the book (a page break prints one of these, then the page number). */
  pageHeaders: readonly RegExp[];
}

type Item = { kind: 'blank' } | { kind: 'text'; text: string; midToken: boolean };

const PAGE_NUMBER = /^\d{1,4}$/;

/** The listing's source text, lines joined with `\n`, ending with a newline. */
export function rebuildListing(rawLines: readonly string[], options: ListingOptions): string {
  const items = dropPageBreaks(readItems(rawLines), options.pageHeaders);
  const lines = joinWrappedLines(items, options.language);
  return `${collapseBlankLines(lines).join('\n')}\n`;
}

function readItems(rawLines: readonly string[]): Item[] {
  const items: Item[] = [];
  let afterSeparator = true;
  for (const raw of rawLines) {
    if (raw === '') {
      afterSeparator = true;
      continue;
    }
    if (raw.trim() === '') {
      items.push({ kind: 'blank' });
    } else {
      // The dump indents a line by one extra space when it lost the separator before it.
      const text = !afterSeparator && raw.startsWith(' ') ? raw.slice(1) : raw;
      items.push({ kind: 'text', text: text.trimEnd(), midToken: !/\s$/.test(raw) });
    }
    afterSeparator = false;
  }
  return items;
}

function isText(item: Item | undefined): item is Extract<Item, { kind: 'text' }> {
  return item?.kind === 'text';
}

/** Removes `header` + `page number` pairs and the page's top padding after them. */
function dropPageBreaks(items: readonly Item[], headers: readonly RegExp[]): Item[] {
  const kept: Item[] = [];
  for (let i = 0; i < items.length; i += 1) {
    const item = items[i];
    if (isText(item) && headers.some((header) => header.test(item.text.trim()))) {
      let next = i + 1;
      while (items[next]?.kind === 'blank') next += 1;
      const pageNumber = items[next];
      if (isText(pageNumber) && PAGE_NUMBER.test(pageNumber.text.trim())) {
        next += 1;
        while (items[next]?.kind === 'blank') next += 1;
        i = next - 1;
        continue;
      }
    }
    if (item !== undefined) kept.push(item);
  }
  return kept;
}

function joinWrappedLines(items: readonly Item[], language: ListingLanguage): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < items.length) {
    const item = items[i];
    i += 1;
    if (!isText(item)) {
      out.push('');
      continue;
    }
    let text = item.text;
    let midToken = item.midToken;
    for (;;) {
      const next = items[i];
      if (!isText(next)) break;
      const rest = next.text.trimStart();
      if (midToken) {
        text += rest;
      } else if (continuesOnNextLine(text, rest, language)) {
        text += ` ${rest}`;
      } else {
        break;
      }
      midToken = next.midToken;
      i += 1;
    }
    out.push(text);
  }
  return out;
}

/** Whether a line wrapped at a space continues on the next one (so the original was one line). */
function continuesOnNextLine(line: string, next: string, language: ListingLanguage): boolean {
  switch (language) {
    case 'html':
      // A tag that is still open (its attributes, or a quoted value, run on).
      return line.lastIndexOf('<') > line.lastIndexOf('>');
    case 'js':
      // JavaScript never ends a statement before `(` (no automatic semicolon there), so a line
      // starting with `(` continues the previous one; joining it changes nothing but layout.
      return next.startsWith('(') && !line.includes('//') && !/[;{}]$/.test(line);
    default:
      return assertNever(language);
  }
}

function collapseBlankLines(lines: readonly string[]): string[] {
  const out: string[] = [];
  for (const line of lines) {
    if (line === '' && (out.length === 0 || out[out.length - 1] === '')) continue;
    out.push(line);
  }
  while (out[out.length - 1] === '') out.pop();
  return out;
}

function assertNever(value: never): never {
  throw new Error(`unexpected value: ${String(value)}`);
}
