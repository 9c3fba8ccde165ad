/**
 * A dialect is how one family of clients hears the server: the same events, encoded in that
 * family's vocabulary, plus the few behaviours its clients rely on (the call engine reads
 * those through calls/party.ts's PartyTraits).
 */
import type { ClientFamily, Party, PartyTraits } from '../calls/model.js';
import type { OutEvent } from '../events.js';

export type DialectName = ClientFamily;

export interface Dialect extends PartyTraits {
  /** Live presence events are pushed to this client. */
  readonly presence: boolean;
  /** The wire text of an event for `to` (this dialect's client), or null when it has no use for it. */
  encode(event: OutEvent, to: Party): string | null;
}
