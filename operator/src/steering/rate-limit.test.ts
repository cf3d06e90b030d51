import { describe, expect, it } from "vitest";
import { parseIp } from "./ip.js";
import { RateLimiter } from "./rate-limit.js";

describe("RateLimiter", () => {
  it("lets a burst through, then one request per 1/rate, and says how long to wait", () => {
    const l = new RateLimiter({ perSecond: 2, burst: 3 });
    const c = parseIp("192.0.2.1");
    expect([0, 0, 0, 0].map(() => l.take(c, 0))).toEqual([0, 0, 0, 1]);
    expect(l.take(c, 499)).toBe(1);
    // A refused request takes nothing: by 1,000 ms two tokens have come back.
    expect([l.take(c, 1_000), l.take(c, 1_000), l.take(c, 1_000)]).toEqual([0, 0, 1]);
  });

  it("counts an IPv6 /64 as one client, and other clients apart", () => {
    const l = new RateLimiter({ perSecond: 1, burst: 1 });
    expect(l.take(parseIp("2001:db8:1:2::1"), 0)).toBe(0);
    expect(l.take(parseIp("2001:db8:1:2:ffff::9"), 0)).toBe(1);
    expect(l.take(parseIp("2001:db8:1:3::1"), 0)).toBe(0);
    expect(l.take(parseIp("192.0.2.1"), 0)).toBe(0);
    expect(l.take(parseIp("192.0.2.2"), 0)).toBe(0);
  });

  it("tracks at most maxClients, forgetting the least recently seen (which lets it through again)", () => {
    const l = new RateLimiter({ perSecond: 1, burst: 1, maxClients: 100 });
    for (let i = 0; i < 1_000; i++) l.take({ family: 4, words: [i] }, 0);
    expect(l.clients).toBe(100);
    expect(l.take({ family: 4, words: [0] }, 0)).toBe(0); // forgotten: a fresh bucket
    expect(l.take({ family: 4, words: [999] }, 0)).toBe(1); // still tracked: empty
  });
});
