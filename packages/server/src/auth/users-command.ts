/**
 * `callwire users add|remove|list|passwd NAME [flags]`: manage accounts for `--auth password`
 * in the configured store (the same `--data-dir`, `--store` and `--redis` as the server; it
 * may be running: a removed account or a new password ends that user's sessions within
 * `--user-check-interval-ms`). Exit codes: 0 done, 1 failed, 2 bad usage.
 */
import { randomUUID } from 'node:crypto';
import { normalizeName } from '@callwire/protocol';
import { ConfigError, parseConfig } from '../config.js';
import { createStore } from '../stores/open-store.js';
import { isStoreUnavailable, type Store } from '../stores/store.js';
import { hashPassword, passwordProblem } from './passwords.js';
import { PasswordInputError, readNewPassword } from './read-password.js';

const USAGE =
  'usage: callwire users add|remove|passwd NAME [flags]  |  callwire users list [flags]';

const out = (line: string) => process.stdout.write(line + '\n');
const err = (line: string) => process.stderr.write(`callwire users: ${line}\n`);

export async function usersCommand(argv: readonly string[]): Promise<number> {
  const [action, ...rest] = argv;
  const needsName = action === 'add' || action === 'remove' || action === 'passwd';
  if (!needsName && action !== 'list') {
    err(USAGE);
    return 2;
  }
  const rawName = needsName ? rest[0] : undefined;
  if (needsName && (rawName === undefined || rawName.startsWith('--'))) {
    err(USAGE);
    return 2;
  }
  const name = rawName === undefined ? undefined : normalizeName(rawName);
  if (name !== undefined && !name.ok) {
    err('names are 1-32 letters, digits, . _ - or inner spaces');
    return 2;
  }
  let config;
  try {
    config = parseConfig(needsName ? rest.slice(1) : rest);
  } catch (e) {
    if (e instanceof ConfigError) {
      err(e.message);
      return 2;
    }
    throw e;
  }

  const store = createStore(config);
  try {
    await store.open();
    const params = {
      memoryCost: config.argon2MemoryKib,
      timeCost: config.argon2TimeCost,
      parallelism: config.argon2Parallelism,
    };
    switch (action) {
      case 'list':
        return await list(store);
      case 'remove': {
        const existing = await store.getUser(name!.key);
        if (existing === undefined || !(await store.removeUser(name!.key)))
          return fail(`no user ${name!.display}`);
        out(`removed ${existing.name}`);
        return 0;
      }
      case 'add':
      case 'passwd': {
        const existing = await store.getUser(name!.key);
        if (action === 'add' && existing !== undefined)
          return fail(`${existing.name} already exists`);
        if (action === 'passwd' && existing === undefined) return fail(`no user ${name!.display}`);
        const { password, source } = await readNewPassword(name!.display);
        const problem = passwordProblem(password);
        // What was stored, so a pipe that fed something unexpected shows up (never the password).
        const stored = `a password of ${[...password].length} characters from ${source === 'stdin' ? 'stdin' : 'the prompt'}`;
        if (problem !== null) return fail(problem);
        const hash = await hashPassword(password, params);
        // A new epoch ends sessions signed in with the old password (or an older account).
        const epoch = randomUUID();
        if (action === 'add') {
          const added = await store.addUser({
            key: name!.key,
            name: name!.display,
            hash,
            epoch,
            createdAtMs: Date.now(),
          });
          if (!added) return fail(`${name!.display} already exists`);
          out(`added ${name!.display} with ${stored}`);
        } else {
          if (!(await store.setPassword(name!.key, hash, epoch)))
            return fail(`no user ${name!.display}`);
          out(`password set for ${name!.display}: ${stored}`);
        }
        return 0;
      }
      default:
        return 2;
    }
  } catch (e) {
    if (isStoreUnavailable(e)) return fail(`the store is unavailable: ${e.message}`);
    if (e instanceof PasswordInputError) return fail(e.message);
    throw e;
  } finally {
    await store.close();
  }
}

async function list(store: Store): Promise<number> {
  let after: string | undefined;
  for (;;) {
    const page = await store.listUsers(500, after);
    for (const u of page) out(u.name);
    if (page.length < 500) return 0;
    after = page[page.length - 1]!.key;
  }
}

function fail(message: string): number {
  err(message);
  return 1;
}
