// What people and Prometheus see over HTTP: the 404 page, and /metrics names that follow
// Prometheus conventions and include everything the shipped Grafana dashboard queries.
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from './support.js';

let ts: TestServer | undefined;
const http = (path: string) => `http://127.0.0.1:${ts!.port}${path}`;
afterEach(async () => {
  await ts?.close();
  ts = undefined;
});

describe('unknown URLs', () => {
  it('answer a browser with an HTML page, and scripts with JSON', async () => {
    ts = await startServer();
    const browser = await fetch(http('/no/such/page'), {
      headers: { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' },
    });
    expect(browser.status).toBe(404);
    expect(browser.headers.get('content-type')).toMatch(/^text\/html/);
    expect(browser.headers.get('content-security-policy')).toContain("script-src 'self'");
    const page = await browser.text();
    expect(page).toMatch(/^<!doctype html>/);
    expect(page).toContain('<a href="/">');

    for (const accept of ['application/json', '*/*']) {
      const res = await fetch(http('/no/such/page'), { headers: { accept } });
      expect(res.status).toBe(404);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      expect(await res.json()).toMatchObject({ statusCode: 404, error: 'Not Found' });
    }
  });
});

/** Every series name /metrics can expose: from its # TYPE lines, with histogram suffixes. */
function exposedNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    const [, name, type] = m as unknown as [string, string, string];
    names.add(name);
    if (type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(name + s);
    if (type === 'summary') for (const s of ['_sum', '_count']) names.add(name + s);
  }
  return names;
}

/** Metric names in a PromQL expression: identifiers that are not functions, labels or keywords. */
function queriedNames(expr: string): string[] {
  const bare = expr
    .replace(/\{[^}]*\}/g, ' ') // label matchers
    .replace(/\b(by|without)\s*\([^)]*\)/g, ' ') // grouping labels
    .replace(/\[[^\]]*\]/g, ' '); // ranges
  return [...bare.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*(?!\s*\()/g)]
    .map((m) => m[0])
    .filter((name, i, all) => /[a-z]_/.test(name) && all.indexOf(name) === i);
}

describe('/metrics', () => {
  it('names follow Prometheus conventions: one prefix, counters end in _total, units in names', async () => {
    ts = await startServer();
    const text = await (await fetch(http('/metrics'))).text();
    const names = exposedNames(text);
    expect(names.size).toBeGreaterThan(20);
    for (const name of names) {
      expect(name, 'a doubled word').not.toMatch(/(^|_)([a-z]+)_\2_/);
      expect(name).toMatch(/^(callwire|process|nodejs)_[a-z0-9_]+$/);
    }
    for (const m of text.matchAll(/^# TYPE (\S+) counter$/gm)) expect(m[1]).toMatch(/_total$/);
    expect(names).toContain('process_cpu_seconds_total');
    expect(names).toContain('callwire_users_online');
  });

  it('has every metric the Grafana dashboard in docs/ queries', async () => {
    const dashboard = JSON.parse(
      readFileSync(
        new URL('../../../docs/grafana/callwire-dashboard.json', import.meta.url),
        'utf8',
      ),
    ) as { panels: Array<{ title: string; targets?: Array<{ expr: string }> }> };
    const queried = dashboard.panels.flatMap((p) =>
      (p.targets ?? []).flatMap((t) =>
        queriedNames(t.expr).map((name) => ({ panel: p.title, name })),
      ),
    );
    expect(queried.length).toBeGreaterThan(10);
    ts = await startServer();
    const names = exposedNames(await (await fetch(http('/metrics'))).text());
    expect(queried.filter((q) => !names.has(q.name))).toEqual([]);
  });
});
