/**
 * The contract every ABR rule keeps: a pure function of what the player knows before fetching a chunk
 * (its buffer, the ladder, the past downloads) and of the rule's own state, returning which rendition
 * to fetch and how long to wait first. No clock, no I/O: the simulator and the real player call the
 * same functions with the same inputs.
 */

/** One rendition on the ladder, lowest bitrate first. */
export type Rendition = Readonly<{ bitrateBps: number; vmaf?: number | undefined }>;

/** One finished chunk download. */
export type Download = Readonly<{ quality: number; bytes: number; seconds: number }>;

export type AbrInput = Readonly<{
  /** Seconds of media buffered ahead of the playhead. */
  bufferS: number;
  /** The most the player buffers: it never fetches a chunk that would not fit. */
  maxBufferS: number;
  ladder: readonly Rendition[];
  /** Chunk downloads so far, oldest first. */
  history: readonly Download[];
  chunkSeconds: number;
  /**
   * Bytes of the chunk `ahead` chunks after the next one (0: the next) at rendition `quality`;
   * undefined past the end of the title. From the manifest's chunk index.
   */
  chunkBytes: (quality: number, ahead: number) => number | undefined;
  /** Seconds since the previous download finished in which nothing was fetched (waits, decisions). */
  idleS: number;
  /** The buffer ran dry since the previous decision. */
  rebuffered: boolean;
}>;

export type Decision = Readonly<{ quality: number; delayS: number }>;

/** What the player knows part-way through a chunk's download: whether to give it up for a lower rendition. */
export type AbandonInput = Readonly<{
  /** Seconds buffered now (the download's time already drained from it). */
  bufferS: number;
  ladder: readonly Rendition[];
  /** The rendition being fetched. */
  quality: number;
  bytesLoaded: number;
  bytesTotal: number;
  /** Seconds since the request was sent. */
  elapsedS: number;
  chunkSeconds: number;
  /** This chunk's size at rendition `quality`, from the manifest's chunk index. */
  chunkBytes: (quality: number) => number | undefined;
}>;

export interface AbrRule<S> {
  readonly name: string;
  /** The state before the first chunk of a title. */
  initial(ladder: readonly Rendition[]): S;
  decide(input: AbrInput, state: S): readonly [Decision, S];
  /**
   * Asked while a chunk downloads: a lower rendition to fetch the chunk at instead (the download is
   * given up), or undefined to go on. A rule without it never abandons.
   */
  abandon?(input: AbandonInput, state: S): number | undefined;
}

/** One session's use of a rule: its state kept between the calls. */
export type AbrSession = Readonly<{
  decide(input: AbrInput): Decision;
  abandon(input: AbandonInput): number | undefined;
}>;

/** A rule whose state type is hidden, so rules of every kind can sit in one list. */
export type AnyAbrRule = Readonly<{
  name: string;
  start(ladder: readonly Rendition[]): AbrSession;
}>;

export function erase<S>(rule: AbrRule<S>): AnyAbrRule {
  return {
    name: rule.name,
    start(ladder) {
      let state = rule.initial(ladder);
      return {
        decide(input) {
          const [d, next] = rule.decide(input, state);
          state = next;
          return d;
        },
        abandon: (input) => rule.abandon?.(input, state),
      };
    },
  };
}

/** Harmonic mean (bits per second) of the last `n` downloads' throughputs; 0 without any. */
export function harmonicThroughput(history: readonly Download[], n: number): number {
  const last = history.slice(-n);
  if (last.length === 0) return 0;
  let inverse = 0;
  for (const d of last) inverse += d.seconds / Math.max(1, d.bytes * 8);
  return inverse > 0 ? last.length / inverse : Number.POSITIVE_INFINITY;
}

/** The highest rendition whose bitrate is at most `bps` (the lowest when none is). */
export function qualityForThroughput(ladder: readonly Rendition[], bps: number): number {
  let q = 0;
  for (let i = 0; i < ladder.length; i++) if ((ladder[i]?.bitrateBps ?? Infinity) <= bps) q = i;
  return q;
}

export const lastQuality = (history: readonly Download[]): number | undefined => history.at(-1)?.quality;
