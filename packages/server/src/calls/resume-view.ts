/**
 * What a call looks like to resume: the peer told that its party is away or back, and the
 * list of calls a resumed client gets back. Neither changes the call.
 */
import type { ResumedCallValue } from '@callwire/protocol';
import { peerOf, roleOf } from './call.js';
import type { Party } from './model.js';

/** `party` lost its connection but may resume (away), or resumed: tell the peer of its call. */
export function announcePeerState(party: Party, away: boolean): void {
  for (const call of [party.call, party.other]) {
    if (call === null) continue;
    peerOf(call, party).send({ t: 'peer-state', callId: call.id, name: party.name, away });
  }
}

/** The calls `party` is in, as a resumed client gets them back. */
export function resumedCalls(party: Party): ResumedCallValue[] {
  const calls = [party.call, party.other].filter((c) => c !== null);
  return calls.map((call) => {
    const peer = peerOf(call, party);
    return {
      callId: call.id,
      name: peer.name,
      role: roleOf(call, party)!,
      state: call.state === 'connected' ? 'connected' : 'ringing',
      media: call.media,
      ...(peer.state === 'away' ? { peerReconnecting: true } : {}),
      ...(call.answeredAtMs === undefined
        ? {}
        : { answeredAt: new Date(call.answeredAtMs).toISOString() }),
    };
  });
}
