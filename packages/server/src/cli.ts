/**
 * The `callwire` command. `callwire [serve] [flags]` runs a node; `callwire --help` explains.
 * Exit codes: 0 clean stop, 1 runtime failure, 2 bad usage.
 */
import { buildServer } from './app.js';
import { tokenCommand } from './auth/token-command.js';
import { usersCommand } from './auth/users-command.js';
import { ConfigError, helpText, parseConfig, type Config } from './config.js';

export async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(helpText() + '\n');
    return 0;
  }
  if (command === 'users') return usersCommand(rest);
  if (command === 'token') return tokenCommand(rest);
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
  const server = buildServer(config);
  const { log } = server.ctx;
  try {
    await server.listen();
  } catch (err) {
    log.fatal({ err: (err as Error).message }, 'cannot listen');
    log.flush();
    return 1;
  }
  return new Promise<number>((resolve) => {
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
      server.drain().then(
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
}
