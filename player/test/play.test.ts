/**
 * The reference client against real edge nginx processes and the real steering service: the whole
 * lifecycle, failover when an edge goes away or answers wrong, and bad manifests as failed answers.
 */
import { createHash } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { get, tempDir } from "../../nodes/test/harness.js";
import { main } from "../../operator/src/cli/main.js";
import { ABR_RULES, abrRule } from "../src/abr/index.js";
import { HttpTransport } from "../src/http-transport.js";
import { play } from "../src/play.js";
import { playSession } from "../src/session.js";
import { PlaybackRequestError, parsePlayback, requestPlayback } from "../src/steering-client.js";
import { expectedChunkSums } from "./chunk-sums.js";
import { type LocalFleet, startLocalFleet } from "./local-fleet.js";

const TITLE = "night-harbor";
const bba = abrRule("bba") ?? ABR_RULES[0];
if (bba === undefined) throw new Error("no rule");

describe("the reference client on a local fleet", () => {
  let fleet: LocalFleet;
  beforeAll(async () => {
    fleet = await startLocalFleet({ dir: await tempDir("player-"), titleId: TITLE, durationSeconds: 24, edges: 2 });
  });
  afterAll(() => fleet?.stop());

  const tls = () => ({ ca: fleet.ca });

  it.each(ABR_RULES.map((rule) => ({ name: rule.name, rule })))(
    "$name: playback request → manifest → every chunk by Range from the first ranked edge → telemetry",
    async ({ rule }) => {
      const r = await play({
        steering: fleet.steeringUrl,
        title: TITLE,
        rule,
        maxBufferS: 60,
        heartbeatS: 1,
        tls: tls(),
      });
      expect(r.done).toBe(true);
      expect(r.bitrates).toHaveLength(6);
      expect(r.failovers).toBe(0);
      expect(new Set(r.servers)).toEqual(new Set([0]));
      expect(r.telemetry.accepted).toBe(r.telemetry.sent);
      expect(r.telemetry.sent).toBeGreaterThanOrEqual(2);
      const content = await requestPlayback(fleet.steeringUrl, TITLE, tls());
      expect(r.chunkSha256).toEqual(expectedChunkSums(content, r.bitrates));
      const metrics = await fleet.metrics.metrics();
      expect(metrics).toMatch(/edgefleet_playback_startup_seconds_count\{cluster="edge-0"\} [1-9]/);
      expect(metrics).toMatch(/edgefleet_playback_rebuffer_ratio_count\{cluster="edge-0"\} [1-9]/);
    },
  );

  it("`edgefleet play` is this client: its JSON summary gives every chunk's sha256, each its range's bytes", async () => {
    const dir = await tempDir("player-cli-");
    const ca = join(dir, "edge-ca.pem");
    await writeFile(ca, Buffer.concat(fleet.ca));
    const out: string[] = [];
    const errs: string[] = [];
    const argv = ["play", "--steering", fleet.steeringUrl, "--title", TITLE, "--ca", ca, "--rule", "bola", "--json"];
    const code = await main(
      argv,
      (s) => out.push(s),
      (s) => errs.push(s),
    );
    expect([code, errs]).toEqual([0, []]);
    const r = JSON.parse(out.join("")) as { rule: string; chunks: number; bitrates: number[]; chunkSha256: string[] };
    expect([r.rule, r.chunks]).toEqual(["bola", 6]);
    const content = await requestPlayback(fleet.steeringUrl, TITLE, tls());
    expect(r.chunkSha256).toEqual(expectedChunkSums(content, r.bitrates));
    const bad: string[] = [];
    expect(
      await main(
        ["play", "--steering", fleet.steeringUrl],
        () => {},
        (s) => bad.push(s),
      ),
    ).toBe(2);
    expect(bad.join("")).toContain("--title: the title id is required");
  });

  it("the chunks add up to the files the Title declares, and their ranges, fetched one by one, hash to its sha256", async () => {
    const content = await requestPlayback(fleet.steeringUrl, TITLE, tls());
    content.chunkBytes.forEach((sizes, q) => {
      expect(sizes.reduce((a, b) => a + b, 0)).toBe(fleet.files[q]?.bytes);
    });
    const url = content.urls[1]?.[0] ?? "";
    const h = createHash("sha256");
    let off = 0;
    for (const size of content.chunkBytes[1] ?? []) {
      const r = await get(url, { headers: { range: `bytes=${off}-${off + size - 1}` }, ca: fleet.ca[0] });
      expect(r.status).toBe(206);
      expect(r.body.length).toBe(size);
      h.update(r.body);
      off += size;
    }
    expect(h.digest("hex")).toBe(fleet.files[1]?.sha256);
  });

  describe("a failed server is left for the next ranked one", () => {
    let bad: Server;
    let mode: "html" | "short" | "forbidden" = "html";
    beforeAll(async () => {
      bad = createServer((req, res) => {
        if (mode === "html")
          res.writeHead(206, { "content-type": "text/html", "content-range": "bytes 0-9/10" }).end("<html>");
        else if (mode === "forbidden") res.writeHead(403).end();
        else {
          const [, a, b] = /bytes=(\d+)-(\d+)/.exec(req.headers.range ?? "") ?? [];
          res.writeHead(206, { "content-type": "video/mp4", "content-range": `bytes ${a}-${b}/99999999` }).end("short");
        }
      });
      await new Promise<void>((r) => bad.listen(0, "127.0.0.1", r));
    });
    afterAll(() => new Promise((r) => bad.close(r)));

    it.each([
      { mode: "html" as const, reason: "html" },
      { mode: "short" as const, reason: "length" },
      { mode: "forbidden" as const, reason: "status: HTTP 403" },
    ])("an edge answering $mode: one failover, then the rest from the next server", async ({ mode: m, reason }) => {
      mode = m;
      const content = await requestPlayback(fleet.steeringUrl, TITLE, tls());
      const badUrl = `http://127.0.0.1:${(bad.address() as AddressInfo).port}/x.mp4`;
      const withBad = { ...content, urls: content.urls.map((u) => [badUrl, ...u]) };
      const transport = new HttpTransport(tls());
      const r = await playSession(withBad, bba, transport, { maxBufferS: 60 });
      transport.close();
      expect(r.done).toBe(true);
      expect(r.failovers).toBe(1);
      expect(r.failures[0]).toContain(reason);
      expect(new Set(r.servers)).toEqual(new Set([1]));
    });
  });

  it("a download abandoned part-way through real sockets: the chunk again at the lower rendition, no failover, the bytes right", async () => {
    const content = await requestPlayback(fleet.steeringUrl, TITLE, tls());
    // The top rendition's server dribbles: 1 kB every 50 ms, never the whole chunk.
    const slow = createServer((req, res) => {
      const [, a = "0", b = "0"] = /bytes=(\d+)-(\d+)/.exec(req.headers.range ?? "") ?? [];
      res.writeHead(206, { "content-type": "video/mp4", "content-range": `bytes ${a}-${b}/99999999` });
      const timer = setInterval(() => res.write(Buffer.alloc(1000)), 50);
      res.on("close", () => clearInterval(timer));
    });
    await new Promise<void>((r) => slow.listen(0, "127.0.0.1", r));
    try {
      const top = content.ladder.length - 1;
      const slowUrl = `http://127.0.0.1:${(slow.address() as AddressInfo).port}/top.mp4`;
      const withSlow = { ...content, urls: content.urls.map((u, q) => (q === top ? [slowUrl] : u)) };
      // Always asks for the top rendition; gives a download up for the lowest after half a second.
      const greedy = {
        name: "greedy",
        start: () => ({
          decide: () => ({ quality: top, delayS: 0 }),
          abandon: (a: { elapsedS: number; bytesLoaded: number }) =>
            a.elapsedS >= 0.5 && a.bytesLoaded > 0 ? 0 : undefined,
        }),
      };
      const transport = new HttpTransport(tls());
      const r = await playSession(withSlow, greedy, transport, { maxBufferS: 60 });
      transport.close();
      expect(r.done).toBe(true);
      expect([r.abandoned, r.failovers]).toEqual([6, 0]);
      expect(new Set(r.bitrates)).toEqual(new Set([content.ladder[0]?.bitrateBps]));
      expect(r.chunkSha256).toEqual(expectedChunkSums(withSlow, r.bitrates));
      expect(r.bytes).toBeGreaterThan(content.chunkBytes[0]?.reduce((x, y) => x + y, 0) ?? 0);
    } finally {
      slow.closeAllConnections();
      await new Promise((r) => slow.close(r));
    }
  });

  it("the first ranked edge goes away mid-play (killed): the client continues from the next without giving up", async () => {
    const content = await requestPlayback(fleet.steeringUrl, TITLE, tls());
    const transport = new HttpTransport(tls());
    const pids = (await fleet.edges[0]?.pids()) ?? [];
    let killed = false;
    const r = await playSession(content, bba, transport, {
      maxBufferS: 60,
      heartbeatS: 0.001,
      onHeartbeat: (s) => {
        if (s.bitrates.length >= 2 && !killed) {
          killed = true;
          for (const pid of pids) process.kill(pid, "SIGKILL");
        }
      },
    });
    transport.close();
    expect(r.done).toBe(true);
    expect(r.failovers).toBeGreaterThanOrEqual(1);
    expect(r.servers.slice(0, 2)).toEqual([0, 0]);
    expect(r.servers.at(-1)).toBe(1);
  });
});

describe("an edge frozen mid-play (SIGSTOP, as docker pause freezes a node)", () => {
  let fleet: LocalFleet;
  beforeAll(async () => {
    fleet = await startLocalFleet({
      dir: await tempDir("player-pause-"),
      titleId: TITLE,
      durationSeconds: 40,
      edges: 2,
    });
  });
  afterAll(() => fleet?.stop());

  it("with ≥ 10 s of buffer the client leaves it for the next ranked edge and never stalls", async () => {
    const content = await requestPlayback(fleet.steeringUrl, TITLE, { ca: fleet.ca });
    const transport = new HttpTransport({ ca: fleet.ca });
    const edge = fleet.edges[0];
    if (!edge) throw new Error("no edge");
    const pids = await edge.pids();
    let bufferAtPause: number | undefined;
    try {
      // A 14 s buffer: the client fetches a chunk every 4 s of real time, so it is mid-stream when frozen.
      const r = await playSession(content, bba, transport, {
        maxBufferS: 14,
        heartbeatS: 0.5,
        onHeartbeat: (s) => {
          if (bufferAtPause === undefined && s.startupS !== undefined && s.bitrates.length * 4 - s.playedS >= 10) {
            bufferAtPause = s.bitrates.length * 4 - s.playedS;
            for (const pid of pids) process.kill(pid, "SIGSTOP");
          }
        },
      });
      expect(bufferAtPause).toBeGreaterThanOrEqual(10);
      expect(r.done).toBe(true);
      expect(r.failovers).toBeGreaterThanOrEqual(1);
      expect(r.failures[0]).toMatch(/^(timeout|stall)/);
      expect(r.servers.at(-1)).toBe(1);
      expect(r.rebufferS).toBe(0);
    } finally {
      for (const pid of pids) process.kill(pid, "SIGCONT");
      transport.close();
    }
  });
});

describe("bad manifests are failed answers, not crashes", () => {
  const answer = (status: number, body: string) => ({ status, type: "application/json", body: Buffer.from(body) });
  const good = {
    title: "t",
    expiresAt: "2026-12-01T00:00:00.000Z",
    durationSeconds: 8,
    chunkSeconds: 4,
    ladder: [
      {
        kind: "video",
        codec: "h264",
        rungs: [{ path: "t/v.mp4", bitrateKbps: 235, urls: ["https://192.0.2.1/t/v.mp4"], chunkBytes: [5, 5] }],
      },
    ],
  };
  const rung = (over: object) => ({
    ...good,
    ladder: [{ ...good.ladder[0], rungs: [{ ...good.ladder[0]?.rungs[0], ...over }] }],
  });
  it.each([
    { name: "an HTML page", a: { status: 200, type: "text/html", body: Buffer.from("<html>") }, msg: "not JSON" },
    {
      name: "a steering error",
      a: answer(404, '{"error":{"code":"UnknownTitle","message":"title \\"t\\" is not in the catalog"}}'),
      msg: "HTTP 404: title",
    },
    {
      name: "chunk index of the wrong length",
      a: answer(200, JSON.stringify(rung({ chunkBytes: [5] }))),
      msg: "chunkBytes",
    },
    { name: "an empty chunk", a: answer(200, JSON.stringify(rung({ chunkBytes: [5, 0] }))), msg: "chunkBytes" },
    { name: "no URLs", a: answer(200, JSON.stringify(rung({ urls: [] }))), msg: "urls" },
    {
      name: "no chunk index",
      a: answer(200, JSON.stringify(rung({ chunkBytes: undefined }))),
      msg: "chunkBytes is missing",
    },
    {
      name: "no video",
      a: answer(200, JSON.stringify({ ...good, ladder: [{ ...good.ladder[0], kind: "audio" }] })),
      msg: "no video",
    },
  ])("$name", ({ a, msg }) => {
    expect(() => parsePlayback(a)).toThrow(PlaybackRequestError);
    expect(() => parsePlayback(a)).toThrow(msg);
  });
  it("a well-formed one plays", () =>
    expect(parsePlayback(answer(200, JSON.stringify(good))).chunkBytes).toEqual([[5, 5]]));
});
