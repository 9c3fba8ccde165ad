/**
 * A dialect is how one family of clients hears the server: the same events, encoded in that
 * family's vocabulary, plus the few behaviours its clients rely on (the call engine reads
 * those through calls/party.ts's PartyTraits).
 */
import type { ClientFamily, PartyTraits } from '../calls/party.js';
import type { OutEvent } from '../events.js';
import type { Session } from '../ws/session.js';

export type DialectName = ClientFamily;

export interface Dialect extends PartyTraits {
  /** Live presence events are pushed to this client. */
  readonly presence: boolean;
  /** The wire text for an event, or null when this client has no use for it. */
  encode(event: OutEvent, session: Session): string | null;
}
