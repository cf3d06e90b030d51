/**
 * What each chunk a session played must hash to: the synthetic media's bytes (hack/kind/media.ts, the
 * origin's and the local edges' files) over the chunk's range in the file of the rendition it was
 * fetched at. The same check for the player's tests and the kind e2e suite.
 */
import { mediaRangeSha256 } from "../../hack/kind/media.js";
import { chunkRanges } from "../../operator/src/ladder/chunks.js";
import type { Content } from "../src/content.js";

/** Per chunk played (in order, given each chunk's bitrate in bits/s), the sha256 its bytes must have. */
export function expectedChunkSums(content: Content, bitrates: readonly number[]): string[] {
  return bitrates.map((bps, i) => {
    const q = content.ladder.findIndex((r) => r.bitrateBps === bps);
    const sizes = content.chunkBytes[q];
    const url = content.urls[q]?.[0];
    const range = sizes === undefined ? undefined : chunkRanges(sizes)[i];
    if (url === undefined || sizes === undefined || range === undefined)
      throw new Error(`chunk ${i} at ${bps} b/s: no such rendition or chunk in the manifest`);
    const file = { path: decodeURIComponent(new URL(url).pathname.slice(1)), bytes: sizes.reduce((a, b) => a + b, 0) };
    return mediaRangeSha256(file, range.start, range.end);
  });
}
