/**
 * Calls from the networks where real calls fail most (support/hostile-lab.ts): one that drops
 * all UDP, one that lets out nothing but TLS to port 443, an IPv6-only one, and one that blocks
 * everything but the web. coturn runs docs/DEPLOY.md's configuration with a test certificate
 * on 443; callwire issues it the way the deploy guide says (UDP, TCP, then TLS). Each person
 * has their own Chromium inside their host's namespace.
 *
 * CALLWIRE_ICE_RUNS=10 repeats each connecting case and prints the median time to connected
 * (`npm run bench:ice`); the default is one run, which is the test.
 */
import { createHmac, randomBytes } from 'node:crypto';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectInboundGrowing, expectRemoteVideoPlaying } from './fixtures/sdk/support.js';
import { startCallwire, type CallwireProcess } from './support/callwire-process.js';
import { runAxe } from './support/axe.js';
import { Cleanup } from './support/cleanup.js';
import { startCoturn } from './support/coturn.js';
import { deployCoturnConfig } from './support/deploy-coturn.js';
import {
  SERVER_V4,
  SERVER_V6,
  TURN_TLS_PORT,
  TURN_V4,
  TURN_V6,
  createHostileLab,
  type HostileLab,
  type LabHost,
  type NetworkKind,
} from './support/hostile-lab.js';
import { freePort } from './support/ports.js';
import { serveSdkPage, type SdkPage } from './support/sdk-page.js';

const RUNS = Math.max(1, Number(process.env['CALLWIRE_ICE_RUNS'] ?? 1));
const TURN_URLS = [
  `turn:${TURN_V4}:3478?transport=udp`,
  `turn:${TURN_V4}:3478?transport=tcp`,
  `turns:${TURN_V4}:${TURN_TLS_PORT}?transport=tcp`,
  `turn:[${TURN_V6}]:3478?transport=udp`,
];

// JWT sign-in, so the call history (and the path it records) is kept: open mode keeps none.
const JWT_SECRET = randomBytes(32).toString('hex');
const b64url = (value: string | Buffer): string => Buffer.from(value).toString('base64url');
function tokenFor(name: string): string {
  const head = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const body = b64url(JSON.stringify({ sub: name, exp: Math.floor(Date.now() / 1000) + 3600 }));
  const signature = createHmac('sha256', JWT_SECRET).update(`${head}.${body}`).digest();
  return `${head}.${body}.${b64url(signature)}`;
}

const cleanup = new Cleanup();
let lab: HostileLab;
let callwire: CallwireProcess;
let webCallwire: CallwireProcess;
let pageV4: SdkPage;
let pageV6: SdkPage;
/** The other party of every call: a dual-stack host on an open network. */
let open: { host: LabHost; browser: Browser };
const hosts = new Map<NetworkKind, LabHost>();
let people = 0;

beforeAll(async () => {
  try {
    lab = await createHostileLab();
    cleanup.add('lab', () => lab.close());
    const coturn = await startCoturn({
      config: deployCoturnConfig(),
      listeningIps: [TURN_V4, TURN_V6],
      relayIp: TURN_V4,
      extraRelayIps: [TURN_V6],
      port: 3478,
      tls: { cert: lab.cert, key: lab.key, port: TURN_TLS_PORT },
      allowLoopbackPeers: false,
    });
    cleanup.add('coturn', () => coturn.stop());
    pageV4 = await serveSdkPage(SERVER_V4);
    cleanup.add('page v4', () => pageV4.close());
    pageV6 = await serveSdkPage(SERVER_V6);
    cleanup.add('page v6', () => pageV6.close());
    // A known port: the web app's own origin must be among the allowed ones.
    const port = await freePort('::');
    callwire = await startCallwire({
      args: [
        '--port',
        `${port}`,
        '--host',
        '::',
        '--invites-per-minute',
        '1000',
        '--auth',
        'jwt',
        '--jwt-secret',
        JWT_SECRET,
        '--origins',
        `${pageV4.origin},${pageV6.origin},http://${SERVER_V4}:${port}`,
        '--turn-secret',
        coturn.secret,
        '--turn-urls',
        TURN_URLS.join(','),
      ],
    });
    cleanup.add('callwire', () => callwire.stop());
    // The web app as people use it: open names, the same TURN.
    const webPort = await freePort('::');
    webCallwire = await startCallwire({
      args: [
        ...['--port', `${webPort}`, '--host', '::', '--origins', `http://${SERVER_V4}:${webPort}`],
        ...['--turn-secret', coturn.secret, '--turn-urls', TURN_URLS.join(',')],
      ],
    });
    cleanup.add('web callwire', () => webCallwire.stop());
    for (const kind of ['open', 'no-udp', 'tls443', 'ipv6-only', 'blocked'] as const)
      hosts.set(kind, await lab.addHost(kind));
    const host = hosts.get('open')!;
    const browser = await host.launchChromium(secureFlags());
    cleanup.add('open browser', () => browser.close());
    open = { host, browser };
  } catch (error) {
    await cleanup.run();
    throw error;
  }
}, 90_000);
afterAll(() => cleanup.run());

/** The pages are plain http on lab addresses: let them use the (fake) camera anyway. */
function secureFlags(): string[] {
  const apps = [callwire, webCallwire].map((c) => `http://${SERVER_V4}:${c.port}`);
  const origins = [pageV4.origin, pageV6.origin, ...apps];
  return [`--unsafely-treat-insecure-origin-as-secure=${origins.join(',')}`];
}

interface Person {
  page: Page;
  name: string;
}

async function person(browser: Browser, v6: boolean, each: Cleanup): Promise<Person> {
  // A space in every name: TURN usernames carry the name, and one with a space once got no
  // relay at all (ice.ts), which the relayed calls below would show.
  const name = `P ${++people}`;
  const context = await browser.newContext();
  each.add(`context ${name}`, () => context.close());
  const page = await context.newPage();
  await page.goto((v6 ? pageV6 : pageV4).url);
  await page.waitForFunction(() => window.cw !== undefined);
  const ws = v6 ? `ws://[${SERVER_V6}]:${callwire.port}/` : `ws://${SERVER_V4}:${callwire.port}/`;
  await page.evaluate(([url, who, token]) => window.cw.connect(url, who, undefined, token), [
    ws,
    name,
    tokenFor(name),
  ] as const);
  return { page, name };
}

/** `caller` calls `callee`, who answers; resolves once both are connected. */
async function call(caller: Person, callee: Person): Promise<void> {
  const media = { audio: true, video: true };
  await caller.page.evaluate(([n, m]) => window.cw.callPeer(n, m), [callee.name, media] as const);
  await callee.page.waitForFunction(() => window.cw.incoming.length > 0);
  await callee.page.evaluate((m) => window.cw.accept(m), media);
  await Promise.all(
    [caller, callee].map(({ page }) =>
      page.waitForFunction(() => window.cw.call?.state === 'connected', undefined, {
        timeout: 20_000,
      }),
    ),
  );
}

/** From the callee's accept to the later of the two sides reaching `connected`. */
async function timeToConnectedMs(caller: Person, callee: Person): Promise<number> {
  const connectedAt = (p: Person) =>
    p.page.evaluate(() => window.cw.stateTimes.find((s) => s.state === 'connected')?.at ?? NaN);
  const accepted = await callee.page.evaluate(() => window.cw.acceptStartedAt);
  return Math.max(await connectedAt(caller), await connectedAt(callee)) - accepted;
}

async function hangup(caller: Person, callee: Person): Promise<void> {
  const ended = callee.page.waitForFunction(() => window.cw.call?.state === 'ended');
  await caller.page.evaluate(() => window.cw.hangup());
  await ended;
}

/** The newest call in `who`'s history, through the HTTP API as the web app reads it. */
async function lastRecord(who: Person): Promise<{ path: string | null; reason: string }> {
  const token = await who.page.evaluate(() => window.cw.client?.sessionToken);
  for (let attempt = 0; ; attempt++) {
    const response = await fetch(`http://${SERVER_V4}:${callwire.port}/api/calls?limit=1`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const body = (await response.json()) as { calls: { path: string | null; reason: string }[] };
    const record = body.calls[0];
    // The record is written when the call ends, a moment after the page sees it end.
    if (record !== undefined || attempt > 50) return record!;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)]!;
};

/**
 * A call from a host on `kind`'s network to the open host, `RUNS` times: it connects, media
 * flows both ways, and `check` sees the caller's stats. Returns the times to connected.
 */
async function callsFrom(
  kind: NetworkKind,
  check: (caller: Person, callee: Person) => Promise<void>,
): Promise<number[]> {
  const each = new Cleanup();
  const times: number[] = [];
  try {
    const host = hosts.get(kind)!;
    const browser = await host.launchChromium(secureFlags());
    each.add('browser', () => browser.close());
    const v6 = host.v4 === undefined;
    for (let i = 0; i < RUNS; i++) {
      const [caller, callee] = await Promise.all([
        person(browser, v6, each),
        person(open.browser, false, each),
      ]);
      await call(caller, callee);
      times.push(await timeToConnectedMs(caller, callee));
      if (i === 0) {
        await expectRemoteVideoPlaying(caller.page);
        await expectRemoteVideoPlaying(callee.page);
        await expectInboundGrowing(caller.page, 'audio');
        await expectInboundGrowing(callee.page, 'audio');
        await check(caller, callee);
      }
      await hangup(caller, callee);
    }
  } finally {
    await each.run();
  }
  console.log(
    `[ice] ${kind}: time to connected median ${median(times)} ms over ${times.length} ` +
      `(${times.join(', ')})`,
  );
  return times;
}

/** The caller's stats once media flows: path and relay protocol of the selected pair. */
async function callerPath(caller: Person): Promise<{ path: string; relayProtocol: unknown }> {
  await caller.page.waitForFunction(
    () => window.cw.stats.some((s) => s.bitrateInKbps > 50),
    undefined,
    {
      timeout: 15_000,
    },
  );
  const stats = await caller.page.evaluate(() => window.cw.stats.at(-1)!);
  return { path: stats.path, relayProtocol: stats.relayProtocol };
}

describe('calls from hostile networks', () => {
  it('UDP blocked: connects through TURN over TCP; stats and the call record say relay', async () => {
    const times = await callsFrom('no-udp', async (caller, callee) => {
      expect(await callerPath(caller)).toEqual({ path: 'relay', relayProtocol: 'tcp' });
      await hangup(caller, callee);
      expect(await lastRecord(caller)).toMatchObject({ path: 'relay', reason: 'hangup' });
      expect(await lastRecord(callee)).toMatchObject({ path: 'relay' });
      // Call again for the run's hangup below.
      await call(caller, callee);
    });
    expect(times.every((t) => t > 0 && t < 15_000)).toBe(true);
  });

  it('only TLS to port 443: connects over turns:', async () => {
    await callsFrom('tls443', async (caller) => {
      expect(await callerPath(caller)).toEqual({ path: 'relay', relayProtocol: 'tls' });
    });
  });

  it('IPv6-only: reaches signaling over IPv6 and connects with a dual-stack peer', async () => {
    await callsFrom('ipv6-only', async (caller) => {
      // The selected pair's remote address: the dual-stack peer's IPv6 address.
      const remote = await caller.page.evaluate(async () => {
        const report = await window.cw.call!.peerConnection!.getStats();
        const byId = new Map<string, Record<string, unknown>>();
        report.forEach((s: Record<string, unknown>) => byId.set(String(s['id']), s));
        const transport = [...byId.values()].find((s) => s['type'] === 'transport');
        const pair = byId.get(String(transport?.['selectedCandidatePairId']));
        return String(byId.get(String(pair?.['remoteCandidateId']))?.['address']);
      });
      expect(remote).toContain(':');
      expect(caller.page.url()).toContain(`[${SERVER_V6}]`);
    });
  });

  it('everything blocked: in the web app the call ends after 20 s, each side told why', async () => {
    const each = new Cleanup();
    try {
      const browser = await hosts.get('blocked')!.launchChromium(secureFlags());
      each.add('browser', () => browser.close());
      const app = `http://${SERVER_V4}:${webCallwire.port}/`;
      // The web app signs people in itself on an open-names server (a jwt server's app cannot).
      const signIn = async (on: Browser, name: string): Promise<Page> => {
        const context = await on.newContext();
        each.add(`context ${name}`, () => context.close());
        const page = await context.newPage();
        await page.goto(app);
        await page.getByLabel('Your name').fill(name);
        await page.getByRole('button', { name: 'Sign in' }).click();
        await page.getByRole('heading', { name: 'Online now' }).waitFor();
        return page;
      };
      const n = ++people;
      const [caller, callee] = [`Blocked ${n}`, `Open ${n}`];
      const [blockedPage, openPage] = await Promise.all([
        signIn(browser, caller),
        signIn(open.browser, callee),
      ]);
      await blockedPage.getByRole('button', { name: `Voice call ${callee}`, exact: true }).click();
      await openPage.getByRole('button', { name: 'Accept voice only' }).click();
      const answeredAt = Date.now();
      const notice = (page: Page, text: string) =>
        page
          .locator('.notices .notice-text', { hasText: text })
          .first()
          .waitFor({ timeout: 35_000 });
      await Promise.all([
        notice(
          blockedPage,
          `The call with ${callee} could not be connected. Calls cannot connect from this ` +
            `network: ask your administrator to allow UDP to ${TURN_V4}:3478, or TCP to ` +
            `${TURN_V4}:3478, or TLS (TCP) to ${TURN_V4}:443.`,
        ),
        notice(
          openPage,
          `The call with ${caller} could not be connected. The call could not connect: the ` +
            "other person's network may be blocking calls.",
        ),
      ]);
      console.log(`[ice] blocked: call explained ${Date.now() - answeredAt} ms after the answer`);
      // And the way to find out more.
      await blockedPage.getByRole('button', { name: 'Test my connection' }).click();
      await blockedPage.waitForURL(/\/check$/);
      await blockedPage.getByRole('heading', { name: 'Test my connection' }).waitFor();
    } finally {
      await each.run();
    }
  });

  it('"Test my connection" gives each network its verdict', async () => {
    const expected: Record<string, { verdict: string; rows: string[] }> = {
      open: { verdict: 'Calls will work.', rows: ['Works', 'Works', 'Works', 'Works'] },
      'no-udp': {
        verdict: 'Calls will only work through the relay.',
        rows: ['Works', 'Blocked', 'Blocked', 'Works', 'Blocked'],
      },
      tls443: {
        verdict: 'Calls will only work through the relay.',
        rows: ['Works', 'Blocked', 'Blocked', 'Blocked', 'Works'],
      },
      blocked: {
        verdict:
          'Calls cannot connect from this network: ask your administrator to allow ' +
          `UDP to ${TURN_V4}:3478, or TCP to ${TURN_V4}:3478, or TLS (TCP) to ${TURN_V4}:443.`,
        rows: ['Works', 'Blocked', 'Blocked', 'Blocked', 'Blocked'],
      },
    };
    const seen: Record<string, { verdict: string; rows: string[] }> = {};
    // All four at once: each check mostly waits for packets that never come.
    const check = async (kind: 'open' | 'no-udp' | 'tls443' | 'blocked'): Promise<void> => {
      const each = new Cleanup();
      try {
        const browser =
          kind === 'open' ? open.browser : await hosts.get(kind)!.launchChromium(secureFlags());
        if (kind !== 'open') each.add('browser', () => browser.close());
        const context = await browser.newContext();
        each.add('context', () => context.close());
        const page = await context.newPage();
        await page.goto(`http://${SERVER_V4}:${callwire.port}/check`);
        const verdict = page.locator('.check-verdict');
        await verdict
          .and(page.locator(':not([data-kind="checking"])'))
          .waitFor({ timeout: 20_000 });
        const rows = await page.locator('.check-list dd').allTextContents();
        // The open network's row for STUN names the address it was seen at.
        seen[kind] = {
          verdict: (await verdict.textContent()) ?? '',
          rows: kind === 'open' ? rows.filter((r) => r === 'Works') : rows,
        };
        if (kind === 'open') {
          expect(rows[1]).toMatch(/^Works \(seen as (11\.1\.0\.2|2a00:ca11:1::2)\)$/);
          expect((await runAxe(page)).serious).toEqual([]);
        }
      } finally {
        await each.run();
      }
    };
    await Promise.all((['open', 'no-udp', 'tls443', 'blocked'] as const).map(check));
    expect(seen).toEqual(expected);
  });
});
