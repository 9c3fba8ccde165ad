import { readFileSync } from 'node:fs';
import vm from 'node:vm';
import { findSeedFile } from './paths.js';
import { rebuildListing } from './pdf-listing.js';

/**
 * The "WebRTC" tutorial's own pages, extracted from shared/seeds at test time so that the
 * tutorial's code never enters this repository. Tests run them unchanged against callwire.
 */
export interface TutorialPage {
  /** The page's index.html, as printed in the book. */
  indexHtml: string;
  /** The complete client.js the chapter ends with. */
  clientJs: string;
  /** The signaling URL hard-coded in client.js (`new WebSocket('...')`). */
  signalingUrl: string;
  /** The element ids client.js selects, all present in indexHtml. */
  selectedIds: string[];
  /** Where it came from (`<seed file>:<line>` of each listing), for failure messages. */
  origin: { html: string; clientJs: string };
}

/** The book prints its title and the chapter title as running page headers. */
const PAGE_HEADERS = [/^WebRTC$/, /^\d+\.\s+WebRTC\s+[–-]\s+.+$/];

const VIDEO_CHAPTER = /^11\.\s+WebRTC\s+[–-]\s+Video Demo$/;
const ANY_CHAPTER = /^\d+\.\s+WebRTC\s+[–-]\s+/;
const WHOLE_CLIENT_JS = /^The following is the entire client\.js file:?$/;

/** Chapter 11, "Video Demo": a login page and a call page with local and remote video. */
export function loadVideoDemoPage(): TutorialPage {
  const seedFile = findSeedFile('004');
  return extractVideoDemoPage(readFileSync(seedFile, 'utf8'), seedFile);
}

export function extractVideoDemoPage(text: string, seedName = 'seed'): TutorialPage {
  const lines = text.split(/\r?\n/);
  const trimmed = lines.map((line) => line.trim());

  const chapterStart = findIndex(
    trimmed,
    0,
    (line) => VIDEO_CHAPTER.test(line),
    'chapter 11 title',
  );
  const nextChapter = trimmed.findIndex(
    (line, i) => i > chapterStart && ANY_CHAPTER.test(line) && !VIDEO_CHAPTER.test(line),
  );
  const chapterEnd = nextChapter === -1 ? lines.length : nextChapter;
  const chapter = trimmed.slice(0, chapterEnd);

  const htmlStart = findIndex(chapter, chapterStart, (line) => line === '<html>', '<html>');
  const htmlEnd = findIndex(chapter, htmlStart, (line) => line === '</html>', '</html>') + 1;

  // The chapter builds client.js piece by piece; only its last listing is the whole file.
  const wholeFileIntro = chapter.findLastIndex(
    (line, i) => i > chapterStart && WHOLE_CLIENT_JS.test(line),
  );
  if (wholeFileIntro === -1) throw new Error(`${seedName}: no complete client.js listing`);
  const jsStart = findIndex(
    chapter,
    wholeFileIntro,
    (line) => line.startsWith('//our username'),
    'client.js start',
  );
  // The listing runs until the chapter's next section heading.
  const jsEnd = findIndex(
    chapter,
    jsStart,
    (line) => line === 'Summary',
    'heading after client.js',
  );

  const page = {
    indexHtml: rebuildListing(lines.slice(htmlStart, htmlEnd), {
      language: 'html',
      pageHeaders: PAGE_HEADERS,
    }),
    clientJs: rebuildListing(lines.slice(jsStart, jsEnd), {
      language: 'js',
      pageHeaders: PAGE_HEADERS,
    }),
    origin: { html: `${seedName}:${htmlStart + 1}`, clientJs: `${seedName}:${jsStart + 1}` },
  };
  return { ...page, ...validatePage(page.indexHtml, page.clientJs) };
}

/** Throws unless client.js compiles and index.html has everything client.js relies on. */
function validatePage(
  indexHtml: string,
  clientJs: string,
): { signalingUrl: string; selectedIds: string[] } {
  // Compiling (not running) proves the reconstruction produced valid JavaScript.
  new vm.Script(clientJs, { filename: 'client.js' });

  if (!/^<html>[\s\S]*<\/html>\n$/.test(indexHtml))
    throw new Error('index.html is not one <html> document');
  if (!indexHtml.includes('<script src="client.js"></script>')) {
    throw new Error('index.html does not load client.js');
  }

  const selectedIds = [...clientJs.matchAll(/querySelector\('#([\w-]+)'\)/g)].map(
    (m) => m[1] ?? '',
  );
  const missing = selectedIds.filter((id) => countOf(indexHtml, `id="${id}"`) !== 1);
  if (selectedIds.length === 0 || missing.length > 0) {
    throw new Error(`index.html lacks (or repeats) ids client.js selects: ${missing.join(', ')}`);
  }

  const url = /new WebSocket\('([^']+)'\)/.exec(clientJs)?.[1];
  if (url === undefined) throw new Error('client.js opens no WebSocket');
  return { signalingUrl: url, selectedIds };
}

function findIndex(
  lines: readonly string[],
  from: number,
  predicate: (line: string) => boolean,
  what: string,
): number {
  const index = lines.findIndex((line, i) => i >= from && predicate(line));
  if (index === -1) throw new Error(`seed page extraction: ${what} not found`);
  return index;
}

function countOf(haystack: string, needle: string): number {
  return haystack.split(needle).length - 1;
}
