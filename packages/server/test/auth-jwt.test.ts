// --auth jwt: tokens from the operator's backend, with the algorithm pinned by the key.
import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SignJWT, exportJWK } from 'jose';
import { WebSocket } from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { TestClient, type TestServer } from './support.js';
import { attemptLogin, removeTempDirs, runCli, startWithData, tempDir } from './auth-support.js';

const SECRET = 'a-test-secret-that-is-32-bytes-long!!';
const enc = (s: string) => new TextEncoder().encode(s);
const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
const inOneHour = () => Math.floor(Date.now() / 1000) + 3600;

let ts: TestServer | undefined;
afterEach(async () => {
  await ts?.close();
  ts = undefined;
  removeTempDirs();
});

const hs256 = (claims: Record<string, unknown>, secret = SECRET) =>
  new SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(enc(secret));

const tokenLogin = async (token: string, name = 'alice') =>
  (await attemptLogin(ts!, { type: 'login', name, token, protocol: 1 })).reply;

/** Status of an upgrade: 101 when it became a socket, else the HTTP status. */
function upgradeStatus(url: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers });
    ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.on('open', () => {
      ws.close();
      resolve(101);
    });
    ws.on('error', () => {});
  });
}

describe('jwt with an HS256 secret', () => {
  it('signs in with a valid token whose subject is the name, and refuses bad ones alike', async () => {
    ts = await startWithData(['--auth', 'jwt', '--jwt-secret', SECRET]);
    const ok = await tokenLogin(await hs256({ sub: 'Alice', exp: inOneHour() }), 'alice');
    expect(ok).toMatchObject({ success: true, name: 'Alice' });
    expect(ok.sessionToken).toEqual(expect.any(String));

    const refused = {
      'another name than the subject': await tokenLogin(
        await hs256({ sub: 'mallory', exp: inOneHour() }),
        'bob',
      ),
      expired: await tokenLogin(
        await hs256({ sub: 'alice', exp: Math.floor(Date.now() / 1000) - 60 }),
      ),
      'no exp': await tokenLogin(await hs256({ sub: 'alice' })),
      'no sub': await tokenLogin(await hs256({ exp: inOneHour() })),
      'the wrong key': await tokenLogin(
        await hs256({ sub: 'alice', exp: inOneHour() }, 'x'.repeat(40)),
      ),
      'alg none': await tokenLogin(
        `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: 'alice', exp: inOneHour() })}.`,
      ),
      'not a jwt': await tokenLogin('hello'),
      'no token at all': (await attemptLogin(ts, { type: 'login', name: 'alice', protocol: 1 }))
        .reply,
    };
    for (const [what, reply] of Object.entries(refused)) {
      expect(reply, what).toMatchObject({ success: false, code: 'invalid_credentials' });
    }
  });

  it('refuses a one2one list before register (not_logged_in), even on a socket with a valid token', async () => {
    ts = await startWithData(['--auth', 'jwt', '--jwt-secret', SECRET]);
    const token = await hs256({ sub: 'alice', exp: inOneHour() });
    const early = new TestClient(ts.url('/call'), { headers: { authorization: `Bearer ${token}` } });
    await early.opened;
    early.send({ id: 'list' });
    expect((await early.next('error')).code).toBe('not_logged_in');
    expect(early.pending('listResponse')).toEqual([]);
    early.close();
  });

  it('requires the configured audience and issuer', async () => {
    ts = await startWithData([
      '--auth',
      'jwt',
      '--jwt-secret',
      SECRET,
      '--jwt-audience',
      'calls',
      '--jwt-issuer',
      'https://id.example',
    ]);
    const base = { sub: 'alice', exp: inOneHour() };
    expect(await tokenLogin(await hs256(base))).toMatchObject({ code: 'invalid_credentials' });
    expect(
      await tokenLogin(await hs256({ ...base, aud: 'calls', iss: 'https://evil.example' })),
    ).toMatchObject({
      code: 'invalid_credentials',
    });
    expect(
      await tokenLogin(await hs256({ ...base, aud: 'calls', iss: 'https://id.example' })),
    ).toMatchObject({
      success: true,
    });
  });

  it('checks a token offered with the upgrade before the socket opens (401), and signs that socket in', async () => {
    ts = await startWithData(['--auth', 'jwt', '--jwt-secret', SECRET]);
    const good = await hs256({ sub: 'alice', exp: inOneHour() });
    const bad = await hs256({ sub: 'alice', exp: inOneHour() }, 'y'.repeat(40));
    expect(await upgradeStatus(ts.url('/'), { authorization: `Bearer ${bad}` })).toBe(401);
    expect(await upgradeStatus(`${ts.url('/')}?token=${bad}`)).toBe(401);
    expect(await upgradeStatus(`${ts.url('/call')}?token=expired.not.valid`)).toBe(401);

    const viaHeader = new TestClient(ts.url('/'), { headers: { authorization: `Bearer ${good}` } });
    await viaHeader.opened;
    viaHeader.send({ type: 'login', name: 'alice', protocol: 1 });
    expect(await viaHeader.next('login')).toMatchObject({ success: true, name: 'alice' });

    // A browser cannot set headers on a WebSocket: the query works the same.
    const bobToken = await hs256({ sub: 'bob', exp: inOneHour() });
    const viaQuery = await TestClient.open(`${ts.url('/call')}?token=${bobToken}`);
    viaQuery.send({ id: 'register', name: 'bob' });
    expect(await viaQuery.next('registerResponse')).toMatchObject({ response: 'accepted' });
    // The upgrade token speaks for its subject only.
    const other = await TestClient.open(
      `${ts.url('/')}?token=${await hs256({ sub: 'carol', exp: inOneHour() })}`,
    );
    other.send({ type: 'login', name: 'dave', protocol: 1 });
    expect(await other.next('login')).toMatchObject({
      success: false,
      code: 'invalid_credentials',
    });
  });

  it('closes a session with 4001 when its token expires', async () => {
    ts = await startWithData(['--auth', 'jwt', '--jwt-secret', SECRET]);
    const exp = Math.floor(Date.now() / 1000) + 2;
    const { client, reply } = await attemptLogin(ts, {
      type: 'login',
      name: 'alice',
      token: await hs256({ sub: 'alice', exp }),
      protocol: 1,
    });
    expect(reply.success).toBe(true);
    expect(await client.closed).toBe(4001);
    expect(Date.now()).toBeGreaterThanOrEqual(exp * 1000);
  });

  it('ends a session whose token expires while it is away, so it cannot resume', async () => {
    ts = await startWithData(['--auth', 'jwt', '--jwt-secret', SECRET]);
    const exp = Math.floor(Date.now() / 1000) + 2;
    const first = await attemptLogin(ts, {
      type: 'login',
      name: 'alice',
      token: await hs256({ sub: 'alice', exp }),
      protocol: 1,
      resume: true,
    });
    expect(first.reply.success).toBe(true);
    first.client.ws.terminate();
    await new Promise((r) => setTimeout(r, exp * 1000 - Date.now() + 100));
    const again = await attemptLogin(ts, {
      type: 'login',
      name: 'alice',
      protocol: 1,
      resumeToken: first.reply.resumeToken,
    });
    expect(again.reply).toMatchObject({ success: false, code: 'resume_failed' });
    expect(ts.server.ctx.hub.get('alice')).toBeUndefined();
  });

  it('accepts what `callwire token NAME` mints', async () => {
    ts = await startWithData(['--auth', 'jwt', '--jwt-secret', SECRET]);
    const minted = await runCli(['token', 'alice', '--ttl-seconds', '60'], '', {
      CALLWIRE_JWT_SECRET: SECRET,
    });
    expect(minted.code).toBe(0);
    expect(await tokenLogin(minted.stdout.trim())).toMatchObject({ success: true });
    const weak = await runCli(['token', 'alice', '--jwt-secret', 'short']);
    expect(weak.code).toBe(2);
  });
});

describe('jwt with a public key', () => {
  const keyFiles = (type: 'rsa' | 'ec') => {
    const pair =
      type === 'rsa'
        ? generateKeyPairSync('rsa', { modulusLength: 2048 })
        : generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const dir = tempDir();
    const publicPem = pair.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    writeFileSync(join(dir, 'public.pem'), publicPem);
    writeFileSync(
      join(dir, 'private.pem'),
      pair.privateKey.export({ type: 'pkcs8', format: 'pem' }),
    );
    return {
      ...pair,
      publicPem,
      publicFile: join(dir, 'public.pem'),
      privateFile: join(dir, 'private.pem'),
    };
  };

  it('RS256: valid tokens pass; HS256 signed with the public key (key confusion) and header keys fail', async () => {
    const k = keyFiles('rsa');
    ts = await startWithData(['--auth', 'jwt', '--jwt-public-key', k.publicFile]);
    const claims = { sub: 'alice', exp: inOneHour() };
    const rs = await new SignJWT(claims).setProtectedHeader({ alg: 'RS256' }).sign(k.privateKey);
    expect(await tokenLogin(rs)).toMatchObject({ success: true });

    const confused = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256' })
      .sign(enc(k.publicPem));
    expect(await tokenLogin(confused, 'alice')).toMatchObject({ code: 'invalid_credentials' });

    // An attacker's own key, offered in the header for the server to trust.
    const attacker = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const embedded = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', jwk: await exportJWK(attacker.publicKey) })
      .sign(attacker.privateKey);
    expect(await tokenLogin(embedded)).toMatchObject({ code: 'invalid_credentials' });
    const jku = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', jku: 'https://evil.example/jwks.json' })
      .sign(k.privateKey);
    expect(await tokenLogin(jku)).toMatchObject({ code: 'invalid_credentials' });
    const none = `${b64({ alg: 'none' })}.${b64(claims)}.`;
    expect(await tokenLogin(none)).toMatchObject({ code: 'invalid_credentials' });
  });

  it('ES256: pinned to ES256; the CLI mints with the private key', async () => {
    const k = keyFiles('ec');
    ts = await startWithData(['--auth', 'jwt', '--jwt-public-key', k.publicFile]);
    const minted = await runCli(['token', 'bob', '--jwt-private-key', k.privateFile]);
    expect(minted.code).toBe(0);
    expect(await tokenLogin(minted.stdout.trim(), 'bob')).toMatchObject({
      success: true,
      name: 'bob',
    });
    const es384 = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    const wrongAlg = await new SignJWT({ sub: 'alice', exp: inOneHour() })
      .setProtectedHeader({ alg: 'ES384' })
      .sign(es384.privateKey);
    expect(await tokenLogin(wrongAlg)).toMatchObject({ code: 'invalid_credentials' });
  });
});
