/**
 * A dialect is how one family of clients hears the server: the same engine events, encoded in
 * that family's vocabulary, plus the few behaviours its clients rely on.
 */
import type { OutEvent } from '../events.js';
import type { Session } from '../ws/session.js';

export type DialectName = 'native' | 'tutorial' | 'one2one';

export interface Dialect {
  readonly name: DialectName;
  /** The callee's ring notification must carry the offer (one2one clients answer from it). */
  readonly ringsWithOffer: boolean;
  /** The client has no ringing step: the server accepts calls on its behalf (tutorial). */
  readonly autoAccept: boolean;
  /** Live presence events are pushed to this client. */
  readonly presence: boolean;
  /** The wire text for an event, or null when this client has no use for it. */
  encode(event: OutEvent, session: Session): string | null;
}
