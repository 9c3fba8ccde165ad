/**
 * What a call looks like to resume: the peer told that its party is away or back, and the
 * list of calls a resumed client gets back. Neither changes the call.
 */
import type { ResumedCallValue } from '@callwire/protocol';
import type { Session } from '../ws/session.js';
import { partyOf, peerOf } from './call.js';

/** `session` lost its socket but may resume (away), or resumed: tell the peer of its call. */
export function announcePeerState(session: Session, away: boolean): void {
  const call = session.call;
  if (call === null) return;
  peerOf(call, session).send({ t: 'peer-state', callId: call.id, name: session.name, away });
}

/** The calls `session` is in, as a resumed client gets them back. */
export function resumedCalls(session: Session): ResumedCallValue[] {
  const call = session.call;
  if (call === null) return [];
  const peer = peerOf(call, session);
  return [
    {
      callId: call.id,
      name: peer.name,
      role: partyOf(call, session)!,
      state: call.state === 'connected' ? 'connected' : 'ringing',
      media: call.media,
      ...(peer.state === 'away' ? { peerReconnecting: true } : {}),
    },
  ];
}
