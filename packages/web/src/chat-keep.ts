/**
 * The chat of the call in progress, kept in this tab's `sessionStorage` under its call id, so a
 * page reloaded mid-call (the SDK takes the call back, see `keepAcrossReload`) shows what was
 * said before. Only text: received files were blobs of the old page and are gone with it.
 *
 * One call at a time is kept (the app has one call at a time); a message of another call id
 * replaces it, and the end of the call forgets it. The tab's storage goes with the tab.
 */

export type KeptMessage = { from: string; text: string; at: number; who: 'me' | 'peer' };

const KEY = 'callwire:chat';
/** Enough for any real conversation; a flood must not fill the tab's storage. */
const MAX_MESSAGES = 500;

function storage(): Storage | null {
  try {
    return window.sessionStorage;
  } catch {
    return null; // storage refused: a reload shows an empty chat, as before
  }
}

function read(): { callId: string; messages: KeptMessage[] } | null {
  try {
    const parsed: unknown = JSON.parse(storage()?.getItem(KEY) ?? 'null');
    if (typeof parsed !== 'object' || parsed === null) return null;
    const { callId, messages } = parsed as Record<string, unknown>;
    if (typeof callId !== 'string' || !Array.isArray(messages)) return null;
    return { callId, messages: messages.filter(isMessage) };
  } catch {
    return null;
  }
}

function isMessage(m: unknown): m is KeptMessage {
  if (typeof m !== 'object' || m === null) return false;
  const { from, text, at, who } = m as Record<string, unknown>;
  return (
    typeof from === 'string' &&
    typeof text === 'string' &&
    typeof at === 'number' &&
    (who === 'me' || who === 'peer')
  );
}

/** What was said in call `callId` before this page, oldest first. */
export function keptChat(callId: string): KeptMessage[] {
  if (callId === '') return [];
  const kept = read();
  return kept?.callId === callId ? kept.messages : [];
}

export function keepChatMessage(callId: string, message: KeptMessage): void {
  if (callId === '') return;
  const kept = read();
  const messages = kept?.callId === callId ? kept.messages : [];
  messages.push(message);
  try {
    storage()?.setItem(KEY, JSON.stringify({ callId, messages: messages.slice(-MAX_MESSAGES) }));
  } catch {
    // Quota: this message is not kept across a reload; the chat on screen has it.
  }
}

export function forgetChat(callId: string): void {
  if (read()?.callId !== callId) return;
  try {
    storage()?.removeItem(KEY);
  } catch {
    // nothing kept
  }
}
