import { describe, expect, it, vi } from 'vitest';
import { ConnectWatch } from '../src/connect-watch.js';
import { probeFromCandidates, type LocalCandidate } from '../src/connectivity.js';

const URLS = [
  'turn:turn.test:3478?transport=udp',
  'turn:turn.test:3478?transport=tcp',
  'turns:turn.test:443?transport=tcp',
];
const host: LocalCandidate = {
  type: 'host',
  protocol: 'udp',
  relayProtocol: null,
  address: '10.0.0.2',
  relatedAddress: null,
};
const relay = (relayProtocol: 'udp' | 'tcp' | 'tls'): LocalCandidate => ({
  type: 'relay',
  protocol: 'udp',
  relayProtocol,
  address: '203.0.113.1',
  relatedAddress: '198.51.100.7',
});

describe('probeFromCandidates', () => {
  it('a relay over UDP means the TURN server answered over UDP: STUN works, address seen', () => {
    const probe = probeFromCandidates(URLS, [host, relay('udp'), relay('tcp')], 'ok');
    expect(probe).toEqual({
      signaling: 'ok',
      stun: 'ok',
      publicAddress: '198.51.100.7',
      turn: { udp: 'ok', tcp: 'ok', tls: 'failed' },
    });
  });

  it('only host candidates: every configured way failed', () => {
    expect(probeFromCandidates(URLS, [host], 'ok')).toEqual({
      signaling: 'ok',
      stun: 'failed',
      turn: { udp: 'failed', tcp: 'failed', tls: 'failed' },
    });
  });

  it('what is not configured is not tested', () => {
    const probe = probeFromCandidates(['turns:turn.test:443'], [relay('tls')], 'ok');
    expect(probe.stun).toBe('not_tested');
    expect(probe.turn).toEqual({ udp: 'not_tested', tcp: 'not_tested', tls: 'ok' });
  });
});

describe('ConnectWatch', () => {
  it('gives up once, after the timeout, unless connected first; says when it has nearly run out', () => {
    vi.useFakeTimers();
    try {
      let expired = 0;
      const watch = new ConnectWatch(20_000);
      expect(watch.nearlyExpired()).toBe(false);
      watch.start(() => expired++);
      watch.start(() => expired++); // a second start does not restart the clock
      vi.advanceTimersByTime(17_999);
      expect(watch.nearlyExpired()).toBe(false);
      vi.advanceTimersByTime(1);
      expect(watch.nearlyExpired()).toBe(true);
      vi.advanceTimersByTime(2_000);
      expect(expired).toBe(1);

      const connected = new ConnectWatch(20_000);
      connected.start(() => expired++);
      connected.close();
      vi.advanceTimersByTime(30_000);
      expect(expired).toBe(1);
    } finally {
      vi.useRealTimers();
    }
  });
});
