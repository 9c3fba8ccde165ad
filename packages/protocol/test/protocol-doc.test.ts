// docs/PROTOCOL.md and the schemas cannot drift apart: every message type, error code and
// close code in the code is documented, and the document lists nothing the code lacks.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  ClientMessages,
  CloseCodes,
  ERROR_CODES,
  MALFORMED_POLICY,
  One2OneClientMessages,
  One2OneServerMessages,
  PEERJS_SERVER_TYPES,
  PeerjsClientMessages,
  ServerMessages,
} from '../src/index.js';

const doc = readFileSync(new URL('../../../docs/PROTOCOL.md', import.meta.url), 'utf8');

function section(title: string): string {
  const start = doc.indexOf(`## ${title}`);
  expect(start, `section "${title}"`).toBeGreaterThanOrEqual(0);
  const end = doc.indexOf('\n## ', start + 3);
  return doc.slice(start, end === -1 ? undefined : end);
}

const headings = (text: string) => [...text.matchAll(/^### (\w+)$/gm)].map((m) => m[1]);
const tableFirstColumn = (text: string) =>
  [...text.matchAll(/^\| `?([\w]+)`? \|/gm)].map((m) => m[1]).filter((c) => c !== 'Code');

describe('docs/PROTOCOL.md', () => {
  it('documents exactly the client-to-server messages', () => {
    expect(headings(section('Client to server (native)')).sort()).toEqual(Object.keys(ClientMessages).sort());
  });

  it('documents exactly the server-to-client messages', () => {
    expect(headings(section('Server to client (native)')).sort()).toEqual(Object.keys(ServerMessages).sort());
  });

  it('lists exactly the error codes, with the same meaning', () => {
    const text = section('Error codes');
    expect(tableFirstColumn(text).sort()).toEqual([...ERROR_CODES].sort());
  });

  it('lists exactly the close codes', () => {
    const codes = [...section('Close codes').matchAll(/^\| (\d{4}) \| `(\w+)` \|/gm)].map((m) => [
      Number(m[1]),
      m[2],
    ]);
    expect(codes).toEqual(Object.entries(CloseCodes).map(([code, v]) => [Number(code), v.name]));
  });

  it('states the malformed-frame policy with the numbers the server uses', () => {
    const { strikes, forgiveMs } = MALFORMED_POLICY;
    const row = /^\| 1008 \|.*$/m.exec(section('Close codes'))?.[0] ?? '';
    expect(row).toContain(`${strikes} strikes, forgiven at one per ${forgiveMs / 1000} s`);
    expect(CloseCodes[1008].meaning).toContain(`${strikes} strikes, forgiven at one per ${forgiveMs / 1000} s`);
    const limits = doc.slice(doc.indexOf('Limits:'), doc.indexOf('## Sessions and dialects'));
    expect(limits).toContain(`the ${strikes}th strike closes it with 1008`);
    expect(limits).toContain(`One strike is forgiven every ${forgiveMs / 1000} s`);
  });

  it('names every one2one message in its table', () => {
    const text = section('one2one dialect (`/call`, `/one2one`)');
    for (const id of [...Object.keys(One2OneClientMessages), ...Object.keys(One2OneServerMessages)]) {
      if (id === 'error') continue;
      expect(text, id).toContain(`id:"${id}"`);
    }
  });

  it('names every PeerJS message in its table', () => {
    const text = section('PeerJS dialect (`/peerjs`)');
    for (const type of [...Object.keys(PeerjsClientMessages), ...PEERJS_SERVER_TYPES]) {
      expect(text, type).toContain(`type:"${type}"`);
    }
  });
});
