/**
 * The largest file this browser takes from the other person in a call, a setting kept in this
 * browser (default 100 MB). The SDK refuses anything larger without asking (the sender is told
 * the limit); smaller files are offered first, with Accept and Decline. Everything received is
 * held in memory until saved, so the choices stop at 1 GB.
 */
import { formatBytes } from './dom.js';

const KEY = 'callwire:max-file-bytes';
const MB = 1024 * 1024;

export const FILE_LIMIT_CHOICES: readonly number[] = [10 * MB, 100 * MB, 500 * MB, 1024 * MB];
export const DEFAULT_FILE_LIMIT = 100 * MB;

export function fileLimit(): number {
  try {
    const stored = Number(window.localStorage.getItem(KEY));
    return FILE_LIMIT_CHOICES.includes(stored) ? stored : DEFAULT_FILE_LIMIT;
  } catch {
    return DEFAULT_FILE_LIMIT;
  }
}

export function setFileLimit(bytes: number): void {
  try {
    window.localStorage.setItem(KEY, String(bytes));
  } catch {
    /* not essential: the default applies next time */
  }
}

/** "100 MB", "1.00 GB": the limit as people read it. */
export function limitText(bytes: number): string {
  return bytes % (1024 * MB) === 0 ? `${bytes / (1024 * MB)} GB` : bytes % MB === 0 ? `${bytes / MB} MB` : formatBytes(bytes);
}
