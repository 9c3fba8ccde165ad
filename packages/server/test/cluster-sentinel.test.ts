// Redis is not a single point of failure: with `--redis redis-sentinel://...`, a cluster whose
// Redis primary is killed mid-call follows the Sentinels to the promoted replica, and calls
// across nodes carry on. Real redis-server processes: one primary, one replica, three
// Sentinels (redis-server in Sentinel mode), all on loopback.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { redisTarget } from '../src/cluster/redis-link.js';
import { ConfigError, parseConfig } from '../src/config.js';
import { NodeProcess, login, until } from './cluster-support.js';
import { candidate, connectedCall, type TestClient } from './support.js';

const MASTER = 'callwire-test';
const dir = mkdtempSync(join(tmpdir(), 'callwire-sentinel-'));
const children: ChildProcess[] = [];
const nodes: NodeProcess[] = [];
const clients: TestClient[] = [];

afterAll(async () => {
  for (const c of clients) c.close();
  await Promise.all(nodes.map((n) => n.stop()));
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Start redis-server with these arguments; resolves once it accepts connections. */
async function redisServer(args: string[], ready: RegExp): Promise<ChildProcess> {
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'], cwd: dir });
  children.push(child);
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const onData = (d: Buffer) => {
      output += d.toString();
      if (ready.test(output)) {
        child.stdout.off('data', onData);
        resolve();
      }
    };
    child.stdout.on('data', onData);
    child.once('exit', (code) => reject(new Error(`redis-server exited (${code}): ${output}`)));
  });
  child.stdout.resume();
  child.stderr.resume();
  return child;
}

const dataNode = (port: number, extra: string[] = []) =>
  redisServer(
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...extra],
    /ready to accept connections/i,
  );

async function sentinel(port: number, primaryPort: number): Promise<void> {
  // Sentinels rewrite their configuration file, so each gets its own.
  const file = join(dir, `sentinel-${port}.conf`);
  writeFileSync(
    file,
    [
      `port ${port}`,
      'bind 127.0.0.1',
      `dir ${dir}`,
      `sentinel monitor ${MASTER} 127.0.0.1 ${primaryPort} 2`,
      // Faster than the defaults (30 s, 3 min), so the test takes seconds.
      `sentinel down-after-milliseconds ${MASTER} 1000`,
      `sentinel failover-timeout ${MASTER} 5000`,
      '',
    ].join('\n'),
  );
  await redisServer([file, '--sentinel'], /Sentinel ID is|monitor master/i);
}

describe('--redis redis-sentinel://', () => {
  it('names the Sentinels, the master and the data nodes’ credentials', () => {
    expect(
      redisTarget('redis-sentinel://u:p%40ss@10.0.0.1:26379,[::1]:26380/my-master'),
    ).toMatchObject({
      sentinels: [
        { host: '10.0.0.1', port: 26379 },
        { host: '::1', port: 26380 },
      ],
      name: 'my-master',
      username: 'u',
      password: 'p@ss',
    });
    expect(redisTarget('redis://127.0.0.1:6379')).toEqual({ url: 'redis://127.0.0.1:6379' });
  });

  it('refuses a malformed Sentinel URL, and --store redis with Sentinel', () => {
    for (const bad of [
      'redis-sentinel://host/master',
      'redis-sentinel://host:99999/master',
      'redis-sentinel://host:26379',
      'redis-sentinel://host:26379/',
    ]) {
      expect(() => parseConfig(['--redis', bad], {}), bad).toThrow(ConfigError);
    }
    expect(() =>
      parseConfig(['--redis', 'redis-sentinel://h:26379/m', '--store', 'redis'], {}),
    ).toThrow(ConfigError);
    expect(parseConfig(['--redis', 'redis-sentinel://h:26379/m'], {}).redis).toBe(
      'redis-sentinel://h:26379/m',
    );
  });
});

describe('Redis behind Sentinel', () => {
  it('keeps cross-node calls through a failover of the primary, and reports the time to recover', async () => {
    const [primaryPort, replicaPort, ...sentinelPorts] = await Promise.all(
      Array.from({ length: 5 }, freePort),
    );
    const primary = await dataNode(primaryPort!);
    await dataNode(replicaPort!, ['--replicaof', '127.0.0.1', String(primaryPort)]);
    for (const port of sentinelPorts) await sentinel(port, primaryPort!);
    // The failover needs the Sentinels to know the replica and each other.
    const probe = new Redis({ port: sentinelPorts[0]!, host: '127.0.0.1', lazyConnect: true });
    await probe.connect();
    try {
      await until(async () => {
        const replicas = (await probe.call('SENTINEL', 'replicas', MASTER)) as string[][];
        const master = (await probe.call('SENTINEL', 'master', MASTER)) as string[];
        const numOther = Number(master[master.indexOf('num-other-sentinels') + 1]);
        return replicas.length === 1 && numOther === 2;
      }, 20_000);
    } finally {
      probe.disconnect();
    }

    const url = `redis-sentinel://${sentinelPorts.map((p) => `127.0.0.1:${p}`).join(',')}/${MASTER}`;
    nodes.push(await NodeProcess.start(url), await NodeProcess.start(url));
    await Promise.all(nodes.map((n) => n.waitReady(15_000)));
    const alice = await login(nodes[0]!, 'alice');
    const bob = await login(nodes[1]!, 'bob');
    clients.push(alice, bob);
    const callId = await connectedCall(alice, bob, 'bob');
    alice.send({ type: 'candidate', callId, candidate: candidate(0) });
    expect((await bob.next('candidate')).candidate).toEqual(candidate(0));

    // Traffic every 100 ms from alice to bob; the primary dies in the middle of it.
    let i = 0;
    let stop = false;
    const sentAt = new Map<number, number>();
    const traffic = (async () => {
      while (!stop) {
        i++;
        sentAt.set(i, Date.now());
        alice.send({ type: 'candidate', callId, candidate: candidate(i) });
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    await new Promise((r) => setTimeout(r, 500));
    const killedAt = Date.now();
    primary.kill('SIGKILL');

    // Recovered when a candidate sent after the kill reaches bob on the other node.
    const firstAfter = await bob.next((m) => {
      const seq = Number(
        /^candidate:(\d+) /.exec(String((m.candidate as { candidate?: string })?.candidate))?.[1],
      );
      return m.type === 'candidate' && (sentAt.get(seq) ?? 0) > killedAt;
    }, 30_000);
    const recoveredMs = Date.now() - killedAt;
    stop = true;
    await traffic;
    console.log(
      `Sentinel failover: cross-node delivery again ${recoveredMs} ms after the primary was killed ` +
        `(down-after-milliseconds 1000)`,
    );
    expect(firstAfter.callId).toBe(callId);
    expect(recoveredMs).toBeLessThan(10_000);

    // The same call carries on both ways; nobody was told it ended.
    alice.send({ type: 'candidate', callId, candidate: candidate(900) });
    expect(
      (
        await bob.next(
          (m) =>
            m.type === 'candidate' &&
            (m.candidate as { candidate: string }).candidate === candidate(900).candidate,
        )
      ).callId,
    ).toBe(callId);
    bob.send({ type: 'candidate', callId, candidate: candidate(901) });
    expect((await alice.next('candidate')).candidate).toEqual(candidate(901));
    expect([...alice.pending('leave'), ...bob.pending('leave')]).toEqual([]);
    // New cross-node calls work too, through the promoted replica.
    const carol = await login(nodes[1]!, 'carol');
    const dave = await login(nodes[0]!, 'dave');
    clients.push(carol, dave);
    await connectedCall(carol, dave, 'dave');
  }, 90_000);
});
