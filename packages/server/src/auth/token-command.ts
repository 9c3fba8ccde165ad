/**
 * `callwire token NAME`: a development token for `--auth jwt`, signed as the operator's
 * backend would sign it (HS256 with --jwt-secret, or RS256/ES256 with --jwt-private-key FILE),
 * `sub` = NAME, expiring after --ttl-seconds (default 1 hour). It is printed on stdout.
 */
import { parseArgs } from 'node:util';
import { normalizeName } from '@callwire/protocol';
import { mintToken } from './jwt.js';

const USAGE =
  'usage: callwire token NAME [--jwt-secret S | --jwt-private-key FILE] [--ttl-seconds 3600] [--jwt-audience A] [--jwt-issuer I]';

export async function tokenCommand(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<number> {
  const err = (line: string, code: number) => {
    process.stderr.write(`callwire token: ${line}\n`);
    return code;
  };
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: {
        'jwt-secret': { type: 'string' },
        'jwt-private-key': { type: 'string' },
        'ttl-seconds': { type: 'string' },
        'jwt-audience': { type: 'string' },
        'jwt-issuer': { type: 'string' },
      },
      strict: true,
      allowPositionals: true,
    });
  } catch (e) {
    return err(`${(e as Error).message}\n${USAGE}`, 2);
  }
  const { values, positionals } = parsed;
  const [rawName, ...extra] = positionals;
  if (rawName === undefined || extra.length > 0) return err(USAGE, 2);
  const name = normalizeName(rawName);
  if (!name.ok) return err('names are 1-32 letters, digits, . _ - or inner spaces', 2);
  const ttlSeconds = Number(values['ttl-seconds'] ?? '3600');
  if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1 || ttlSeconds > 30 * 24 * 3600) {
    return err('--ttl-seconds must be a whole number from 1 to 2592000', 2);
  }
  const secret = values['jwt-secret'] ?? (env.CALLWIRE_JWT_SECRET || undefined);
  const privateKeyFile = values['jwt-private-key'];
  if ((secret === undefined) === (privateKeyFile === undefined)) {
    return err('give --jwt-secret (or CALLWIRE_JWT_SECRET) or --jwt-private-key FILE', 2);
  }
  if (secret !== undefined && Buffer.byteLength(secret) < 32)
    return err('--jwt-secret must be at least 32 bytes', 2);
  try {
    const token = await mintToken({
      name: name.display,
      ttlSeconds,
      secret,
      privateKeyFile,
      audience: values['jwt-audience'] ?? (env.CALLWIRE_JWT_AUDIENCE || undefined),
      issuer: values['jwt-issuer'] ?? (env.CALLWIRE_JWT_ISSUER || undefined),
    });
    process.stdout.write(token + '\n');
    return 0;
  } catch (e) {
    return err((e as Error).message, 1);
  }
}
