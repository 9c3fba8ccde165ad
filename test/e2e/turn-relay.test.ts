/// <reference lib="dom" />
import { createHmac } from 'node:crypto';
import { turnCredentials } from 'callwire';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { startCallwire, type CallwireProcess } from './support/callwire-process.js';
import { launchChromium } from './support/chromium.js';
import { Cleanup } from './support/cleanup.js';
import { startCoturn, type Coturn } from './support/coturn.js';
import {
  gatherRelayCandidates,
  installCallAgent,
  selectedPairTypes,
} from './support/native-call-agent.js';
import { PageWatch, parseObject } from './support/page-watch.js';
import { assertLoopbackOnlyNetwork } from './support/ports.js';
import { serveStatic, type StaticServer } from './support/static-server.js';

/*
 * TURN as deployed: coturn with a shared secret, callwire handing out time-limited REST
 * credentials for it at login. Everything (coturn, callwire, the page server, Chromium) runs
 * in the suite's loopback-only network namespace (scripts/test.sh: `unshare -n`).
 */

const PAGE = `<!doctype html>
<meta charset="utf-8">
<title>callwire relay test</title>
<video id="remote" autoplay muted playsinline></video>`;

interface Person {
  name: string;
  page: Page;
  watch: PageWatch;
  login: Record<string, unknown>;
}

describe('TURN relay through coturn with callwire credentials', () => {
  const cleanup = new Cleanup();
  const people: Person[] = [];
  let coturn: Coturn;
  let server: CallwireProcess;
  let site: StaticServer;
  let browser: Browser;

  beforeAll(async () => {
    assertLoopbackOnlyNetwork();
    coturn = await startCoturn();
    cleanup.add('coturn', () => coturn.stop());
    server = await startCallwire({
      args: [
        '--host',
        '127.0.0.1',
        '--port',
        '0',
        '--turn-secret',
        coturn.secret,
        '--turn-urls',
        coturn.url,
      ],
    });
    cleanup.add('callwire', () => server.stop());
    site = await serveStatic({ '/': { body: PAGE, contentType: 'text/html; charset=utf-8' } });
    cleanup.add('static site', () => site.close());
    browser = await launchChromium();
    cleanup.add('chromium', () => browser.close());
  });

  afterAll(() => cleanup.run());

  /** One person in their own browser context, logged in to callwire over the native protocol. */
  async function logIn(name: string): Promise<Person> {
    const context = await browser.newContext();
    cleanup.add(`context ${name}`, () => context.close());
    const page = await context.newPage();
    const watch = new PageWatch(name, page);
    await page.goto(site.url('/'));
    const login = await page.evaluate(installCallAgent, {
      url: `ws://127.0.0.1:${server.port}/`,
      name,
      iceTransportPolicy: 'relay' as const,
    });
    const person = { name, page, watch, login };
    people.push(person);
    return person;
  }

  /** The login reply's TURN entry (callwire hands out exactly one). */
  function turnEntry(login: Record<string, unknown>): RTCIceServer {
    const servers = login['iceServers'] as RTCIceServer[];
    const turn = servers.filter((s) => s.username !== undefined);
    expect(turn).toHaveLength(1);
    return turn[0]!;
  }

  async function waitForVideoPlaying(page: Page): Promise<void> {
    await page.waitForFunction(
      () => (document.querySelector<HTMLVideoElement>('#remote')?.videoWidth ?? 0) > 0,
      null,
      {
        timeout: 20_000,
      },
    );
    const start = await page.$eval('#remote', (video: HTMLVideoElement) => video.currentTime);
    await page.waitForFunction(
      (from) =>
        (document.querySelector<HTMLVideoElement>('#remote')?.currentTime ?? 0) > from + 0.5,
      start,
      { timeout: 20_000 },
    );
  }

  function diagnostics(): string {
    return [
      ...people.map((p) => p.watch.report()),
      '--- callwire log',
      ...server.otherOutput,
      ...server.logs.map((record) => JSON.stringify(record)),
      '--- coturn log (last 80 lines)',
      ...coturn.output.slice(-80),
    ].join('\n');
  }

  it('hands out coturn REST credentials at login: <expiry>:<name>, HMAC-SHA1 of the secret, 1 h', async () => {
    onTestFailed(() => console.error(diagnostics()));
    const before = Math.floor(Date.now() / 1000);
    const { login } = await logIn('Carol');
    const after = Math.floor(Date.now() / 1000);
    const turn = turnEntry(login);
    expect(turn.urls).toEqual([coturn.url]);
    const [expiry, name, ...rest] = String(turn.username).split(':');
    expect(rest).toEqual([]);
    expect(name).toBe('Carol');
    expect(Number(expiry)).toBeGreaterThanOrEqual(before + 3600);
    expect(Number(expiry)).toBeLessThanOrEqual(after + 3600);
    expect(turn.credential).toBe(
      createHmac('sha1', coturn.secret).update(String(turn.username)).digest('base64'),
    );
  });

  it('connects a relay-only call through coturn: only relay candidates, a relay pair, video both ways', async () => {
    onTestFailed(() => console.error(diagnostics()));
    const alice = await logIn('alice');
    const bob = await logIn('bob');
    await alice.page.evaluate(() => window.callAgent.call('bob'));

    for (const { page } of [alice, bob]) {
      await page.waitForFunction(() => window.callAgent.pc?.connectionState === 'connected', null, {
        timeout: 20_000,
      });
    }
    await Promise.all([waitForVideoPlaying(alice.page), waitForVideoPlaying(bob.page)]);
    // Both have gathered everything: no candidate is still on its way to be checked below.
    for (const { page } of [alice, bob]) {
      await page.waitForFunction(() => window.callAgent.pc?.iceGatheringState === 'complete');
    }

    for (const person of [alice, bob]) {
      const seen = await person.page.evaluate(() => ({
        sent: [...window.callAgent.sentCandidates],
        received: [...window.callAgent.receivedCandidates],
        failures: [...window.callAgent.failures],
      }));
      expect(seen.failures).toEqual([]);
      expect(seen.sent.length).toBeGreaterThan(0);
      expect(seen.received.length).toBeGreaterThan(0);
      // On the wire as well: every candidate the page sent or was sent is a relay candidate.
      const onWire = person.watch.frames
        .map((frame) => parseObject(frame.payload))
        .filter((msg) => msg?.['type'] === 'candidate')
        .map((msg) =>
          String((msg?.['candidate'] as { candidate?: unknown } | undefined)?.candidate),
        );
      expect(onWire.length).toBeGreaterThanOrEqual(seen.sent.length + seen.received.length);
      for (const line of [...seen.sent, ...seen.received, ...onWire])
        expect(line).toMatch(/ typ relay( |$)/);

      expect(await person.page.evaluate(selectedPairTypes)).toEqual({
        local: 'relay',
        remote: 'relay',
      });
    }
  });

  it('coturn refuses credentials that have expired (and takes fresh ones signed the same way)', async () => {
    onTestFailed(() => console.error(diagnostics()));
    const { page } = people[0] ?? (await logIn('dave'));
    const nowMs = Date.now();
    const serversAt = (issuedMs: number): RTCIceServer[] => {
      const { username, credential } = turnCredentials(coturn.secret, 'dave', 3600, issuedMs);
      return [{ urls: [coturn.url], username, credential }];
    };

    // Issued two hours ago with a one-hour lifetime: expired an hour ago.
    const expired = await page.evaluate(gatherRelayCandidates, serversAt(nowMs - 2 * 3600 * 1000));
    expect(expired.candidates).toEqual([]);
    expect(expired.errors.map((e) => e.errorCode)).toContain(401);

    const fresh = await page.evaluate(gatherRelayCandidates, serversAt(nowMs));
    expect(fresh.errors).toEqual([]);
    expect(fresh.candidates.length).toBeGreaterThan(0);
    for (const line of fresh.candidates) expect(line).toMatch(/ typ relay( |$)/);
  });
});
