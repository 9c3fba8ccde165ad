// The server's layout is part of its design (docs/ARCHITECTURE.md): the call core owns call
// state, knows nothing of the cluster, and nothing imports in a circle. These checks read the
// source as it is, so a change that breaks one of those rules fails here, not in review.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../src', import.meta.url));

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

const SOURCES = new Map(files(SRC).map((f) => [relative(SRC, f), readFileSync(f, 'utf8')]));

/** Relative imports of a file, as paths relative to src/ (`.js` specifiers name `.ts` files). */
function importsOf(file: string): string[] {
  const text = SOURCES.get(file)!;
  const out: string[] = [];
  for (const m of text.matchAll(/^(?:import|export)\b[^;]*?from\s+'(\.[^']+)'/gms)) {
    const target = relative(SRC, resolve(dirname(join(SRC, file)), m[1]!)).replace(/\.js$/, '.ts');
    out.push(target);
  }
  return out;
}

describe('server architecture', () => {
  it('has no import cycles', () => {
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const visit = (file: string, path: string[]): void => {
      if (state.get(file) === 'done') return;
      if (state.get(file) === 'open') {
        cycles.push([...path.slice(path.indexOf(file)), file].join(' -> '));
        return;
      }
      state.set(file, 'open');
      for (const next of importsOf(file)) if (SOURCES.has(next)) visit(next, [...path, file]);
      state.set(file, 'done');
    };
    for (const file of SOURCES.keys()) visit(file, []);
    expect(cycles).toEqual([]);
  });

  it('keeps the call core free of the cluster, the sockets and the dialects', () => {
    const allowed = (target: string) =>
      target.startsWith('calls/') || target === 'metrics.ts' || target === 'rate-limit.ts';
    const reaching: string[] = [];
    for (const file of SOURCES.keys()) {
      if (!file.startsWith('calls/')) continue;
      for (const target of importsOf(file))
        if (!allowed(target)) reaching.push(`${file} -> ${target}`);
      if (/cluster/i.test(SOURCES.get(file)!.replace(/\/\/.*|\/\*[\s\S]*?\*\//g, ''))) {
        reaching.push(`${file} names the cluster in code`);
      }
    }
    expect(reaching).toEqual([]);
  });

  it('lets only calls/ write a call or the call and room a party is in', () => {
    const writes: string[] = [];
    const patterns = [
      /\.(call|room)\s*=(?!=)/,
      /\bcall\.(state|queued|calleeNotified|answeredAtMs|ringTimer|caller|callee)\s*=(?!=)/,
    ];
    for (const [file, text] of SOURCES) {
      if (file.startsWith('calls/')) continue;
      text.split('\n').forEach((line, i) => {
        const code = line.replace(/\/\/.*$/, '');
        if (patterns.some((p) => p.test(code))) writes.push(`${file}:${i + 1}: ${line.trim()}`);
      });
    }
    expect(writes).toEqual([]);
  });

  it('builds every call in one place', () => {
    // A Call literal is the only object with a `ringTimer` key.
    const builders = [...SOURCES]
      .filter(([, text]) => /\bringTimer:\s*undefined\b/.test(text))
      .map(([file]) => file);
    expect(builders).toEqual(['calls/call.ts']);
  });

  it('reads ws private fields only in ws/ws-internals.ts', () => {
    const readers = [...SOURCES]
      .filter(([, text]) => /\._(socket|receiver)\b/.test(text))
      .map(([file]) => file);
    expect(readers).toEqual(['ws/ws-internals.ts']);
  });
});
