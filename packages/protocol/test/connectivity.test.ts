import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  connectivityVerdict,
  iceTargets,
  parseIceUrl,
  type ConnectivityProbe,
  type ProbeOutcome,
} from '../src/index.js';

const probe = (
  stun: ProbeOutcome,
  udp: ProbeOutcome,
  tcp: ProbeOutcome,
  tls: ProbeOutcome,
  signaling: ProbeOutcome = 'ok',
): ConnectivityProbe => ({ signaling, stun, turn: { udp, tcp, tls } });

const targets = iceTargets([
  'turn:turn.example.com:3478?transport=udp',
  'turn:turn.example.com:3478?transport=tcp',
  'turns:turn.example.com:443?transport=tcp',
]);

describe('connectivityVerdict', () => {
  it('an open network: calls work, directly', () => {
    const v = connectivityVerdict(probe('ok', 'ok', 'ok', 'ok'), targets);
    expect(v).toEqual({ kind: 'works', route: 'direct', allow: [], text: 'Calls will work.' });
  });

  it('UDP blocked, TURN over TCP allocates: relay only, over TCP', () => {
    const v = connectivityVerdict(probe('failed', 'failed', 'ok', 'ok'), targets);
    expect(v.kind).toBe('relay_only');
    expect(v.route).toBe('relay-tcp');
    expect(v.text).toBe('Calls will only work through the relay.');
  });

  it('only TLS on 443 gets out: relay only, over TLS', () => {
    const v = connectivityVerdict(probe('failed', 'failed', 'failed', 'ok'), targets);
    expect([v.kind, v.route]).toEqual(['relay_only', 'relay-tls']);
  });

  it('nothing gets out: blocked, naming every way that would do', () => {
    const v = connectivityVerdict(probe('failed', 'failed', 'failed', 'failed'), targets);
    expect(v.kind).toBe('blocked');
    expect(v.route).toBeNull();
    expect(v.allow).toEqual([
      'UDP to turn.example.com:3478',
      'TCP to turn.example.com:3478',
      'TLS (TCP) to turn.example.com:443',
    ]);
    expect(v.text).toBe(
      'Calls cannot connect from this network: ask your administrator to allow UDP to ' +
        'turn.example.com:3478, or TCP to turn.example.com:3478, or TLS (TCP) to turn.example.com:443.',
    );
  });

  it('signaling unreachable is blocked whatever else was seen', () => {
    const v = connectivityVerdict(probe('ok', 'ok', 'ok', 'ok', 'failed'), {
      signaling: 'call.example.com:443',
    });
    expect(v.kind).toBe('blocked');
    expect(v.allow).toEqual(['connections to the call server to call.example.com:443']);
  });

  it('no STUN or TURN configured: not tested', () => {
    const v = connectivityVerdict(probe('not_tested', 'not_tested', 'not_tested', 'not_tested'));
    expect(v.kind).toBe('not_tested');
  });

  it('only STUN configured and it fails: blocked, asking for UDP to it', () => {
    const v = connectivityVerdict(
      probe('failed', 'not_tested', 'not_tested', 'not_tested'),
      iceTargets(['stun:stun.example.com']),
    );
    expect(v.allow).toEqual(['UDP to stun.example.com:3478']);
  });

  it('is total: every probe gets a verdict whose route agrees with its kind', () => {
    const outcome = fc.constantFrom<ProbeOutcome>('ok', 'failed', 'not_tested');
    fc.assert(
      fc.property(outcome, outcome, outcome, outcome, outcome, (s, u, t, l, g) => {
        const v = connectivityVerdict(probe(s, u, t, l, g), targets);
        expect(v.text.length).toBeGreaterThan(0);
        expect(v.route === null).toBe(v.kind === 'blocked' || v.kind === 'not_tested');
        if (v.kind === 'blocked') expect(v.allow.length).toBeGreaterThan(0);
      }),
    );
  });
});

describe('parseIceUrl', () => {
  it('reads scheme, transport and default ports', () => {
    expect(parseIceUrl('stun:h')).toEqual({ kind: 'stun', transport: null, target: 'h:3478' });
    expect(parseIceUrl('turn:h')).toEqual({ kind: 'turn', transport: 'udp', target: 'h:3478' });
    expect(parseIceUrl('turn:h:80?transport=tcp')?.transport).toBe('tcp');
    expect(parseIceUrl('turns:h?transport=tcp')).toEqual({
      kind: 'turn',
      transport: 'tls',
      target: 'h:5349',
    });
    expect(parseIceUrl('turn:[2001:db8::1]:3478')?.target).toBe('[2001:db8::1]:3478');
    expect(parseIceUrl('https://h/')).toBeNull();
  });
});
