/**
 * The closed lists of machine codes callwire speaks. Every `{type:"error"}` the server sends
 * carries one of {@link ErrorCode}; every close it initiates uses one of {@link CloseCode}.
 * docs/PROTOCOL.md documents both tables, and a test keeps the document and these lists equal.
 */

export const ErrorCodes = {
  bad_json: 'The frame is not valid JSON (or not a JSON object).',
  bad_message: 'The message does not match its schema: a field is missing, of the wrong type or too long.',
  unknown_type: 'The message type is not part of the protocol.',
  not_logged_in: 'Only login and ping are accepted before a successful login.',
  already_logged_in: 'This connection is already logged in.',
  name_invalid:
    'The name is not 1-32 letters, digits, ".", "_", "-" or inner spaces after NFKC, has an invisible character, or mixes scripts.',
  name_taken:
    'Somebody else is logged in with that name, or one that looks the same (case-insensitive, confusable skeleton).',
  invalid_credentials: 'The password or token is wrong, or the user does not exist (never said which).',
  not_in_call: 'The message names a call (or a peer) the sender is not a party of.',
  invalid_state: 'The call is not in a state that allows this message (e.g. an answer while ringing).',
  self_call: 'A user cannot call themselves.',
  rate_limited: 'Too many messages, invites or failed logins; this one was dropped. Slow down.',
  resume_failed: 'The resume token is unknown or its grace period is over; log in afresh.',
  room_full: 'The meeting room already has two people in it.',
  rooms_disabled: 'Meeting links are turned off on this server (--rooms off).',
  guests_disabled:
    'This server lets only people who can sign in meet by link (--rooms accounts or off): a guest login is refused.',
  guest_forbidden:
    'A guest may only join meeting rooms: calling by name, the online list and presence need an account.',
  name_reserved:
    'A guest cannot take that name: it is (or looks the same as) the name of an account, or of somebody signed in.',
  queue_full: 'Too many messages are already queued for a ringing call; this one was not accepted.',
  service_unavailable: 'The server cannot take this now (the store is down, or too many logins at once); try again shortly.',
  temporarily_unavailable: 'The cluster cannot reach the peer right now; try again shortly.',
  too_many_devices:
    'The account is already signed in on as many devices as the server allows (10 by default); sign one out first.',
  internal_error: 'The server failed to handle the message; nothing was changed.',
} as const;

export type ErrorCode = keyof typeof ErrorCodes;

export const ERROR_CODES = Object.keys(ErrorCodes) as ErrorCode[];

/**
 * WebSocket close codes (1xxx from RFC 6455, 4xxx our own): the ones the server closes with,
 * and 4000, the one a client closes with when it means to resume.
 */
export const CloseCodes = {
  1000: { name: 'normal', meaning: 'Normal closure.' },
  1001: { name: 'going_away', meaning: 'The server is shutting down for good.' },
  1003: { name: 'unsupported_data', meaning: 'The client sent a binary frame; the protocol is JSON text only.' },
  1008: { name: 'policy_violation', meaning: 'The client kept sending malformed frames (bad_json, bad_message, unknown_type): 16 strikes, forgiven at one per 4 s.' },
  1009: { name: 'message_too_big', meaning: 'A frame was larger than the limit (64 KiB by default).' },
  1012: { name: 'service_restart', meaning: 'The server is restarting (drain); reconnect after the advertised delay.' },
  4000: { name: 'resuming', meaning: 'Sent by a client that drops its socket on purpose and will resume: not a goodbye, so its session and calls wait for it.' },
  4001: { name: 'unauthorized', meaning: 'The session is no longer authorized (token expired, user removed).' },
  4002: { name: 'signed_out', meaning: 'Signed out from another device of the same account: do not sign in again on your own.' },
  4003: { name: 'session_replaced', meaning: 'The same session resumed on another connection, or the same device signed in afresh.' },
  4008: { name: 'slow_consumer', meaning: 'The client stopped reading; its outbound buffer passed the cap (1 MiB).' },
  4010: { name: 'login_timeout', meaning: 'The connection did not sign in within the login deadline (10 s by default).' },
  4029: { name: 'flood', meaning: 'The client kept sending above the sustained rate (more than 10 s worth of it beyond what was served).' },
} as const;

export type CloseCode = keyof typeof CloseCodes;

export const CLOSE = {
  normal: 1000,
  goingAway: 1001,
  unsupportedData: 1003,
  policyViolation: 1008,
  messageTooBig: 1009,
  serviceRestart: 1012,
  resuming: 4000,
  unauthorized: 4001,
  signedOut: 4002,
  sessionReplaced: 4003,
  slowConsumer: 4008,
  loginTimeout: 4010,
  flood: 4029,
} as const satisfies Record<string, CloseCode>;

/** Why a call ended. Every party of a call is told exactly one of these. */
export const END_REASONS = [
  'hangup',
  'declined',
  'busy',
  'no_answer',
  'cancelled',
  'unavailable',
  'disconnected',
  'failed',
  'answered_elsewhere',
  'declined_elsewhere',
  'moved',
] as const;

export type EndReason = (typeof END_REASONS)[number];
