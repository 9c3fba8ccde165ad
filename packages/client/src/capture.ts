/**
 * Camera, microphone and screen capture. Every DOM lookup happens at call time (never at import),
 * so the SDK can be imported in Node, and every failure becomes one coded error with the
 * browser's own error kept as `cause` (NotAllowedError, NotFoundError, OverconstrainedError...).
 */
import { CallwireError } from './errors.js';

function mediaDevices(): MediaDevices {
  const devices = (globalThis as { navigator?: { mediaDevices?: MediaDevices } }).navigator
    ?.mediaDevices;
  if (devices === undefined) {
    throw new CallwireError(
      'media_unavailable',
      'navigator.mediaDevices is missing: serve the page over https (or from localhost)',
    );
  }
  return devices;
}

async function wrap<T>(what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof CallwireError) throw err;
    const name = err instanceof Error ? err.name : 'Error';
    throw new CallwireError('media_unavailable', `${what} failed (${name})`, { cause: err });
  }
}

/** Whether this environment can make WebRTC calls at all (false in Node). */
export function hasWebRtc(): boolean {
  return typeof (globalThis as { RTCPeerConnection?: unknown }).RTCPeerConnection === 'function';
}

/** Camera and/or microphone, or null when neither is wanted. */
export async function captureUserMedia(constraints: {
  audio: boolean | MediaTrackConstraints;
  video: boolean | MediaTrackConstraints;
}): Promise<MediaStream | null> {
  if (constraints.audio === false && constraints.video === false) return null;
  const devices = mediaDevices();
  return wrap('getUserMedia', () => devices.getUserMedia(constraints));
}

/** One track of one kind, optionally from a given device. */
export async function captureTrack(
  kind: 'audio' | 'video',
  deviceId?: string,
): Promise<MediaStreamTrack> {
  const constraint: boolean | MediaTrackConstraints =
    deviceId === undefined ? true : { deviceId: { exact: deviceId } };
  const stream = await captureUserMedia(
    kind === 'audio' ? { audio: constraint, video: false } : { audio: false, video: constraint },
  );
  const track = stream?.getTracks()[0];
  if (track === undefined) throw new CallwireError('media_unavailable', `no ${kind} track`);
  return track;
}

/** A screen, window or tab picked by the user. */
export async function captureScreen(): Promise<MediaStreamTrack> {
  const devices = mediaDevices();
  const stream = await wrap('getDisplayMedia', () =>
    devices.getDisplayMedia({ video: true, audio: false }),
  );
  const track = stream.getVideoTracks()[0];
  if (track === undefined) throw new CallwireError('media_unavailable', 'no screen track');
  // Tells the encoder to keep text sharp rather than motion smooth.
  track.contentHint = 'detail';
  return track;
}
