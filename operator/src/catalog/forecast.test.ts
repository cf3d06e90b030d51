import { describe, expect, it } from "vitest";
import { forecastDemand } from "./forecast.js";

/** Plays of titles t00…t(n−1), title r having base × (r + 1)^-1 scaled by `f(r)`. */
const day = (n: number, f: (r: number) => number = () => 1): Record<string, number> =>
  Object.fromEntries(Array.from({ length: n }, (_, r) => [`t${String(r).padStart(2, "0")}`, (1000 * f(r)) / (r + 1)]));

describe("forecastDemand", () => {
  it("with one day of history forecasts today's plays for the top `limit` titles", () => {
    const today = day(20);
    const f = forecastDemand([today], { limit: 5 });
    expect(Object.keys(f)).toEqual(["t00", "t01", "t02", "t03", "t04"]);
    for (const [id, p] of Object.entries(f)) expect(p).toBeCloseTo(today[id] ?? 0, 9);
  });

  it("applies the rank band's trend: a head losing 20 % a day is forecast to lose it again", () => {
    // Titles of rank < 4 lose 20 % a day, the others hold: the pooled trend of each band carries it.
    const lose = (r: number) => (r < 3 ? 0.8 : 1); // bands of 1 are ranks 0 | 1–2 | 3–6 | …
    const history = [day(16), day(16, lose), day(16, (r) => lose(r) ** 2)];
    const f = forecastDemand(history, { limit: 16, firstBand: 1 });
    const today = history[2] ?? {};
    expect((f.t00 ?? 0) / (today.t00 ?? 1)).toBeCloseTo(0.8, 6);
    expect((f.t01 ?? 0) / (today.t01 ?? 1)).toBeCloseTo(0.8, 6);
    expect((f.t10 ?? 0) / (today.t10 ?? 1)).toBeCloseTo(1, 6);
  });

  it("smooths the trend over days: a one-day jump moves the forecast by half of it", () => {
    const history = [day(8), day(8), day(8, () => 2)];
    const f = forecastDemand(history, { limit: 8, smoothing: 0.5 });
    expect((f.t05 ?? 0) / (history[2]?.t05 ?? 1)).toBeCloseTo(Math.SQRT2, 6);
  });

  it("pools the first `firstBand` ranks into one band", () => {
    const history = [day(8), day(8, (r) => (r < 2 ? 2 : 1))];
    const f = forecastDemand(history, { limit: 8, firstBand: 4 });
    // Ranks 0–3 changed by 2, 2, 1, 1: the band's mean log-change is ln 2 ÷ 2.
    expect((f.t03 ?? 0) / (history[1]?.t03 ?? 1)).toBeCloseTo(Math.SQRT2, 6);
  });

  it("leaves out titles without plays today and returns nothing without history", () => {
    expect(forecastDemand([], { limit: 3 })).toEqual({});
    expect(Object.keys(forecastDemand([{ a: 0, b: 2 }], { limit: 3 }))).toEqual(["b"]);
  });
});
