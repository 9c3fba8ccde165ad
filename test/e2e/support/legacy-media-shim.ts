/// <reference lib="dom" />

/**
 * Chromium has removed `URL.createObjectURL(MediaStream)`; pages written before that show a
 * camera with `video.src = URL.createObjectURL(stream)`. The current way is
 * `video.srcObject = stream`. This init script maps the one onto the other and changes nothing
 * else: createObjectURL(MediaStream) returns a blob: URL that only this shim knows, and setting
 * a media element's `src` to such a URL sets `srcObject` to its stream instead.
 *
 * Setting `src` to anything else afterwards (the tutorial's hang-up does `remoteVideo.src =
 * null`) first clears the `srcObject` the shim set: a media element plays `srcObject` in
 * preference to `src`, while in the browsers the page was written for the new `src` simply
 * replaced the stream.
 *
 * Every other legacy API those pages call (navigator.webkitGetUserMedia, webkitRTCPeerConnection,
 * `iceServers[].url`, callback-style createOffer/createAnswer, addStream, onaddstream) still
 * exists in Chromium 156 and is left alone.
 *
 * Pass the function itself to `page.addInitScript` (Playwright sends its source to the
 * browser), so it must not refer to anything outside its own body. It counts what it did on
 * `window.__mediaStreamUrlShim` so a test can prove the page really went through it.
 */
export function mediaStreamObjectUrlShim(): void {
  const counts = { created: 0, assigned: 0, cleared: 0 };
  Object.defineProperty(window, '__mediaStreamUrlShim', { value: counts });

  const streamsByUrl = new Map<string, MediaStream>();
  const shimmedUrlOf = new WeakMap<HTMLMediaElement, string>();

  const createObjectURL = URL.createObjectURL.bind(URL);
  URL.createObjectURL = (object: Blob | MediaSource | MediaStream): string => {
    if (!(object instanceof MediaStream)) return createObjectURL(object);
    const url = `blob:${location.origin}/${crypto.randomUUID()}`;
    streamsByUrl.set(url, object);
    counts.created += 1;
    return url;
  };

  const src = Object.getOwnPropertyDescriptor(HTMLMediaElement.prototype, 'src');
  if (src?.get === undefined || src.set === undefined) {
    throw new Error('HTMLMediaElement.src is not an accessor');
  }
  // Descriptor accessors are plain functions, always called below with the element as `this`.
  // eslint-disable-next-line @typescript-eslint/unbound-method
  const { get: originalGet, set: originalSet } = src;
  Object.defineProperty(HTMLMediaElement.prototype, 'src', {
    configurable: true,
    enumerable: src.enumerable ?? true,
    get(this: HTMLMediaElement): string {
      const url = shimmedUrlOf.get(this);
      return url !== undefined && this.srcObject === streamsByUrl.get(url)
        ? url
        : (originalGet.call(this) as string);
    },
    set(this: HTMLMediaElement, value: unknown): void {
      const stream = streamsByUrl.get(String(value));
      if (stream !== undefined) {
        shimmedUrlOf.set(this, String(value));
        this.srcObject = stream;
        counts.assigned += 1;
        return;
      }
      if (shimmedUrlOf.delete(this)) {
        this.srcObject = null;
        counts.cleared += 1;
      }
      originalSet.call(this, value);
    },
  });
}

export interface MediaStreamUrlShimCounts {
  created: number;
  assigned: number;
  cleared: number;
}
