/**
 * A site's off-peak fill window, "HH:MM"–"HH:MM" in its own IANA time zone; it may wrap past midnight.
 * Pure: the caller passes the time. Around a DST change the window follows the wall clock, so a window
 * can be an hour shorter or longer that night, which is what operators of the site expect.
 */
export type FillWindowSpec = Readonly<{ start: string; end: string; timeZone: string }>;
export type WindowState = Readonly<{
  open: boolean;
  /** When it next opens (now, if open). */
  nextStart: Date;
  /**
   * When it opens after now: the next window's start even while this one is open. Unlike nextStart
   * it does not move with the clock, so a status showing it is not rewritten every second.
   */
  nextOpening: Date;
  /** When the current or next window closes. */
  end: Date;
}>;

const minutesOf = (hhmm: string): number => {
  const [h, m] = hhmm.split(":").map(Number);
  return (h ?? 0) * 60 + (m ?? 0);
};

/** The window's length in minutes on a night without a DST change. */
const windowMinutes = (w: FillWindowSpec): number => (minutesOf(w.end) - minutesOf(w.start) + 1440) % 1440;

/** One formatter per time zone: making one costs far more than using it, and every reconcile asks. */
const formatters = new Map<string, Intl.DateTimeFormat>();
function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat("en-GB", { timeZone, hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
    formatters.set(timeZone, f);
  }
  return f;
}

/** Minutes since local midnight in `timeZone`, and the seconds/millis past that minute. */
function localMinutes(now: Date, timeZone: string): { minutes: number; subMinuteMs: number } {
  const parts = formatterFor(timeZone).formatToParts(now);
  const get = (t: string) => Number(parts.find((p) => p.type === t)?.value ?? 0);
  return { minutes: get("hour") * 60 + get("minute"), subMinuteMs: now.getTime() % 60_000 };
}

export function fillWindowState(w: FillWindowSpec, now: Date): WindowState {
  const start = minutesOf(w.start);
  const { minutes, subMinuteMs } = localMinutes(now, w.timeZone);
  const length = windowMinutes(w);
  const sinceStart = (minutes - start + 1440) % 1440;
  const at = (deltaMinutes: number) => new Date(now.getTime() - subMinuteMs + deltaMinutes * 60_000);
  const untilStart = 1440 - sinceStart;
  if (sinceStart < length)
    return { open: true, nextStart: now, nextOpening: at(untilStart), end: at(length - sinceStart) };
  return { open: false, nextStart: at(untilStart), nextOpening: at(untilStart), end: at(untilStart + length) };
}

export function fillWindowSeconds(w: FillWindowSpec): number {
  return windowMinutes(w) * 60;
}
