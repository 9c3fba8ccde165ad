/**
 * The `callwire` command. `callwire [serve] [flags]` runs a node; `callwire --help` explains.
 * Exit codes: 0 clean stop, 1 runtime failure (start-up failures are one sentence on stderr),
 * 2 bad usage.
 */
import { readFileSync } from 'node:fs';
import { buildServer } from './app.js';
import { tokenCommand } from './auth/token-command.js';
import { usersCommand } from './auth/users-command.js';
import { doctorCommand } from './doctor/command.js';
import { ConfigError, helpText, parseConfig, type Config } from './config.js';
import { createLogger, plainDestination } from './logger.js';
import { checkDataDir, describeStartupError, startText } from './startup.js';
import { loadTls } from './tls.js';

export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

export async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(helpText() + '\n');
    return 0;
  }
  if (command === '--version' || command === '-V' || command === 'version') {
    process.stdout.write(`callwire ${version()}\n`);
    return 0;
  }
  if (command === 'users') return usersCommand(rest);
  if (command === 'token') return tokenCommand(rest);
  if (command === 'doctor') return doctorCommand(rest);
  const args = command === 'serve' ? rest : argv;
  let config: Config;
  try {
    config = parseConfig(args);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`callwire: ${err.message}\nRun "callwire --help" for the flags.\n`);
      return 2;
    }
    throw err;
  }
  return serve(config);
}

async function serve(config: Config): Promise<number> {
  // People at a terminal get readable lines; anything else (a pipe, a service manager, a log
  // shipper) gets one JSON object per line, so stdout stays machine-readable.
  const format = config.logFormat ?? (process.stdout.isTTY ? 'plain' : 'json');
  const log = createLogger(
    config.logLevel,
    format === 'plain' ? plainDestination(process.stdout) : undefined,
  );
  const fail = (err: unknown): number => {
    const sentence = describeStartupError(err, config);
    if (format === 'json') log.fatal({ err: (err as Error).message }, 'cannot start');
    log.flush();
    process.stderr.write(`callwire: ${sentence}\n`);
    return 1;
  };

  let fingerprint: string | undefined;
  let server: ReturnType<typeof buildServer> | undefined;
  let text: string;
  try {
    checkDataDir(config.dataDir);
    // Certificates are read (or made) here first, so a bad one is named before anything starts.
    const tls = await loadTls(config);
    if (tls?.selfSigned === true) fingerprint = tls.fingerprint256;
    server = buildServer(config, { logger: log });
    const { port, addresses } = await server.listen();
    text = startText({
      port,
      addresses,
      secure: tls !== undefined,
      fingerprint,
      version: version(),
    });
  } catch (err) {
    // Whatever did start (the store, timers) must not keep the process alive.
    await server?.close().catch(() => undefined);
    return fail(err);
  }
  const running = server;
  const stopped = new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) {
        // A second signal means "now".
        log.warn({ signal }, 'second signal: exiting at once');
        log.flush();
        process.exit(1);
      }
      stopping = true;
      log.info({ signal }, 'shutting down');
      const hard = setTimeout(() => {
        log.error('drain deadline passed: exiting');
        log.flush();
        process.exit(1);
      }, config.shutdownTimeoutMs);
      hard.unref();
      running.drain().then(
        () => {
          log.info('stopped');
          log.flush();
          resolve(0);
        },
        (err: unknown) => {
          log.error({ err }, 'drain failed');
          log.flush();
          resolve(1);
        },
      );
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
  });
  // Only now, with the signal handlers in place: whoever reads this line may stop us at once.
  // The plain line for people: on stdout next to plain logs, on stderr when stdout is JSON.
  (format === 'plain' ? process.stdout : process.stderr).write(text);

  return stopped;
}
