import { describe, expect, it } from "vitest";
import { runPlay } from "./cli.js";

/** `npm run play`: exit codes and one-line errors naming the flag. */
async function run(...argv: string[]): Promise<{ code: number; err: string; out: string }> {
  let out = "";
  let err = "";
  const code = await runPlay(
    argv,
    (s) => {
      out += s;
    },
    (s) => {
      err += s;
    },
  );
  return { code, err, out };
}

describe("npm run play", () => {
  it.each([
    { name: "no steering", argv: ["--title", "t"], msg: "--steering: the steering service's URL is required" },
    { name: "no title", argv: ["--steering", "http://127.0.0.1:1"], msg: "--title: the title id is required" },
    {
      name: "unknown rule",
      argv: ["--steering", "http://x", "--title", "t", "--rule", "mpc"],
      msg: '--rule: one of bba, bola, throughput, not "mpc"',
    },
    {
      name: "bad buffer",
      argv: ["--steering", "http://x", "--title", "t", "--max-buffer", "0"],
      msg: '--max-buffer: must be a positive number, not "0"',
    },
    {
      name: "unknown flag",
      argv: ["--steering", "http://x", "--title", "t", "--fast"],
      msg: "Unknown option '--fast'",
    },
  ])("$name: exit 2, the flag named", async ({ argv, msg }) => {
    const r = await run(...argv);
    expect(r.code).toBe(2);
    expect(r.err).toContain(msg);
  });

  it("steering unreachable: exit 1 with the reason, no stack trace", async () => {
    const r = await run("--steering", "http://127.0.0.1:1", "--title", "t");
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^error: playback request to http:\/\/127\.0\.0\.1:1\/v1\/playback\/t: connect ECONNREFUSED/);
  });
});
