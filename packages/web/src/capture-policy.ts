/**
 * Capture size per device. The SDK captures the camera with the browser's defaults; here each
 * new camera track is adjusted to the device: phones and small screens get 640x360 at 15 fps
 * (less battery, heat and upload), larger screens up to 1280x720. Screen-share tracks are left
 * alone. The audio track gets echo cancellation and noise suppression explicitly, since some
 * browsers' defaults differ.
 */
import type { Call } from '@callwire/client';
import { audioConstraints, videoConstraints } from './environment.js';

export function applyCapturePolicy(call: Call): () => void {
  const adjusted = new WeakSet<MediaStreamTrack>();
  const apply = (stream: MediaStream | null): void => {
    if (!stream) return;
    const screen = call.localMedia.screen;
    for (const track of stream.getTracks()) {
      if (adjusted.has(track) || track.readyState !== 'live') continue;
      // While sharing, the stream's video track is the screen: keep its native size.
      if (track.kind === 'video' && screen) continue;
      adjusted.add(track);
      const constraints = track.kind === 'video' ? videoConstraints() : audioConstraints();
      // A device that cannot meet the ideal keeps its current settings; that is fine.
      track.applyConstraints(constraints).catch(() => undefined);
    }
  };
  apply(call.localStream);
  return call.on('localStreamChanged', apply);
}
