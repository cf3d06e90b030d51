import { describe, expect, it } from "vitest";
import { fillWindowSeconds, fillWindowState } from "./fill-window.js";

const night = { start: "22:00", end: "06:00", timeZone: "Europe/Amsterdam" }; // UTC+1 in November
const day = { start: "02:00", end: "08:00", timeZone: "America/New_York" }; // UTC-5 in November

describe("fillWindowState", () => {
  it.each([
    {
      name: "before a wrapping window",
      w: night,
      now: "2026-11-26T20:30:00Z",
      open: false,
      next: "2026-11-26T21:00:00Z",
      end: "2026-11-27T05:00:00Z",
    },
    {
      name: "inside it, before midnight",
      w: night,
      now: "2026-11-26T22:15:00Z",
      open: true,
      opening: "2026-11-27T21:00:00Z",
      end: "2026-11-27T05:00:00Z",
    },
    {
      name: "inside it, after midnight",
      w: night,
      now: "2026-11-27T03:59:59Z",
      open: true,
      opening: "2026-11-27T21:00:00Z",
      end: "2026-11-27T05:00:00Z",
    },
    {
      name: "at its end it is closed",
      w: night,
      now: "2026-11-27T05:00:00Z",
      open: false,
      next: "2026-11-27T21:00:00Z",
    },
    {
      name: "a window in another zone",
      w: day,
      now: "2026-11-26T06:00:00Z",
      open: false,
      next: "2026-11-26T07:00:00Z",
      end: "2026-11-26T13:00:00Z",
    },
    {
      name: "open at its first minute",
      w: day,
      now: "2026-11-26T07:00:00Z",
      open: true,
      opening: "2026-11-27T07:00:00Z",
      end: "2026-11-26T13:00:00Z",
    },
  ])(
    "$name",
    ({
      w,
      now,
      open,
      next,
      end,
      opening,
    }: {
      w: typeof night;
      now: string;
      open: boolean;
      next?: string;
      end?: string;
      opening?: string;
    }) => {
      const s = fillWindowState(w, new Date(now));
      expect(s.open).toBe(open);
      if (next) expect(s.nextStart.toISOString()).toBe(new Date(next).toISOString());
      // While open, the next opening is tomorrow's, whatever the second: a status showing it stays put.
      expect(s.nextOpening.toISOString()).toBe(new Date(opening ?? next ?? s.nextStart).toISOString());
      if (end) expect(s.end.toISOString()).toBe(new Date(end).toISOString());
    },
  );
});

describe("fillWindowSeconds", () => {
  it.each([
    { start: "02:00", end: "08:00", hours: 6 },
    { start: "22:00", end: "06:00", hours: 8 },
    { start: "23:30", end: "00:15", hours: 0.75 },
  ])("$start–$end lasts $hours h", ({ start, end, hours }) => {
    expect(fillWindowSeconds({ start, end, timeZone: "UTC" })).toBe(hours * 3600);
  });
});
