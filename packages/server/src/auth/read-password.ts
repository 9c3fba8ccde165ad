/**
 * A password for `callwire users add|passwd`: from stdin when it is a pipe (`echo "$PW" |
 * callwire users add alice`, one trailing newline removed), else from a prompt on the
 * terminal that does not echo what is typed.
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
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
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

/** A new password: piped, or typed twice at a prompt. */
export async function readNewPassword(name: string): Promise<string> {
  if (!stdin.isTTY) return readPasswordFromPipe();
  const first = await promptHidden(`New password for ${name}: `);
  const second = await promptHidden('Type it again: ');
  if (first !== second) throw new PasswordInputError('the two passwords differ');
  return first;
}
