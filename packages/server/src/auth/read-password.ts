/**
 * A password for `callwire users add|passwd`: from stdin when it is a pipe, else from a prompt
 * on the terminal that does not echo what is typed. A pipe carries one line (`echo "$PW" |
 * callwire users add alice`) or, as the prompt asks, the same line twice (`printf '%s\n%s\n'
 * "$PW" "$PW"`); anything else is refused rather than stored with its line breaks.
 */
import { stdin, stderr } from 'node:process';

/** More than any password can be (1,024 bytes), but a bound on what a pipe may feed us. */
const PIPE_MAX_BYTES = 64 * 1024;

export class PasswordInputError extends Error {
  override readonly name = 'PasswordInputError';
}

export async function readPasswordFromPipe(input: NodeJS.ReadableStream = stdin): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of input) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    size += buf.length;
    if (size > PIPE_MAX_BYTES)
      throw new PasswordInputError('the password on stdin is far too long');
    chunks.push(buf);
  }
  const lines = Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '')
    .split(/\r?\n/);
  if (lines.length === 1) return lines[0]!;
  if (lines.length === 2) {
    if (lines[0] !== lines[1]) throw new PasswordInputError('the two passwords on stdin differ');
    return lines[0]!;
  }
  throw new PasswordInputError(
    'stdin must hold the password on one line, or the same password on two lines',
  );
}

/** Prompt on the terminal without echo. Ctrl-C or Ctrl-D abort. */
export function promptHidden(question: string): Promise<string> {
  return new Promise((resolve, reject) => {
    stderr.write(question);
    stdin.setRawMode(true);
    stdin.resume();
    stdin.setEncoding('utf8');
    let typed = '';
    const done = (err?: Error) => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      stderr.write('\n');
      if (err) reject(err);
      else resolve(typed);
    };
    const onData = (text: string) => {
      for (const ch of text) {
        if (ch === '\r' || ch === '\n') return done();
        if (ch === '\u0003' || ch === '\u0004') return done(new PasswordInputError('aborted'));
        if (ch === '\u007f' || ch === '\b') typed = [...typed].slice(0, -1).join('');
        else if (ch >= ' ') typed += ch;
      }
    };
    stdin.on('data', onData);
  });
}

export interface NewPassword {
  readonly password: string;
  /** Where it came from, to tell the operator what was stored (never the password itself). */
  readonly source: 'stdin' | 'prompt';
}

/** A new password: piped, or typed twice at a prompt. */
export async function readNewPassword(name: string): Promise<NewPassword> {
  if (!stdin.isTTY) return { password: await readPasswordFromPipe(), source: 'stdin' };
  const first = await promptHidden(`New password for ${name}: `);
  const second = await promptHidden('Type it again: ');
  if (first !== second) throw new PasswordInputError('the two passwords differ');
  return { password: first, source: 'prompt' };
}
