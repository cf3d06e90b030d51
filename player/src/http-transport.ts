/**
 * The real player's Transport: HTTP Range requests over keep-alive connections, on the wall clock.
 * Anything but the exact bytes asked for is a failed server, never a crash: a connection error, a
 * status other than 206 (a 403 for an expired or forged link, a 404 for a file not there), an HTML
 * answer (a captive portal, an error page), a Content-Range or body length that differs from the
 * range, no byte for the stall deadline, or no answer at all within it. A delivered chunk carries the
 * sha256 of its bytes, so a test can check what was played against what the origin holds.
 */
import { createHash } from "node:crypto";
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { ABANDON_CHECK_S, type FailureReason, type FetchRequest, type FetchResult, type Transport } from "./session.js";

export type TlsOptions = Readonly<{
  /** PEM of the CA that signed the edge certificates. */
  ca?: Buffer | string | readonly (Buffer | string)[] | undefined;
  /** The name edge certificates are checked against when URLs name addresses (the test edge's "localhost"). */
  servername?: string | undefined;
}>;

/** What is wrong with an answer's status and headers for the range [start, end], if anything. */
function answerProblem(res: IncomingMessage, start: number, end: number): [FailureReason, string] | undefined {
  const type = String(res.headers["content-type"] ?? "");
  if (res.statusCode !== 206) return ["status", `HTTP ${res.statusCode}`];
  if (/text\/html/i.test(type)) return ["html", `content-type ${type}`];
  const range = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(String(res.headers["content-range"] ?? ""));
  if (!range || Number(range[1]) !== start || Number(range[2]) !== end)
    return ["length", `content-range ${JSON.stringify(res.headers["content-range"] ?? null)} for ${start}-${end}`];
  return undefined;
}

export class HttpTransport implements Transport {
  readonly #http = new HttpAgent({ keepAlive: true, maxSockets: 2 });
  readonly #https: HttpsAgent;
  readonly #tls: TlsOptions;
  /** Bytes received, all downloads together (what the player pulled off the network). */
  bytes = 0;

  constructor(tls: TlsOptions = {}) {
    this.#tls = tls;
    this.#https = new HttpsAgent({
      keepAlive: true,
      maxSockets: 2,
      ca: tls.ca as Buffer | string | (Buffer | string)[] | undefined,
    });
  }

  now(): number {
    return performance.now() / 1000;
  }

  wait(seconds: number): Promise<void> {
    return new Promise((r) => setTimeout(r, Math.max(0, seconds * 1000)));
  }

  fetch(req: FetchRequest): Promise<FetchResult> {
    const expected = req.end - req.start + 1;
    const sent = this.now();
    return new Promise<FetchResult>((resolve) => {
      let settled = false;
      let timer: NodeJS.Timeout | undefined;
      const finish = (r: FetchResult) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (!r.ok) outgoing.destroy();
        resolve(r);
      };
      const fail = (reason: FailureReason, detail: string, bytes?: number) =>
        finish({ ok: false, reason, detail, bytes });
      let asked = sent;
      /** Whether the rule gives this download up, asked at most every ABANDON_CHECK_S as bytes arrive. */
      const abandon = (got: number): boolean => {
        const now = this.now();
        if (req.abandon === undefined || now - asked < ABANDON_CHECK_S) return false;
        asked = now;
        return req.abandon({ bytes: got, seconds: now - sent });
      };
      const arm = (reason: FailureReason) => {
        clearTimeout(timer);
        timer = setTimeout(() => fail(reason, `nothing for ${req.stallS.toFixed(1)} s`), req.stallS * 1000);
      };
      let u: URL;
      try {
        u = new URL(req.url);
      } catch {
        return resolve({ ok: false, reason: "error", detail: `not a URL: ${req.url.slice(0, 100)}` });
      }
      const https = u.protocol === "https:";
      const outgoing = (https ? httpsRequest : httpRequest)(
        u,
        {
          headers: { range: `bytes=${req.start}-${req.end}` },
          agent: https ? this.#https : this.#http,
          ...(https && this.#tls.servername ? { servername: this.#tls.servername } : {}),
        },
        (res) => this.#body(res, { ...req, expected, arm, fail, abandon }, (sha256) => finish({ ok: true, sha256 })),
      );
      arm("timeout");
      outgoing.on("error", (err) => fail("error", err.message));
      outgoing.end();
    });
  }

  #body(
    res: IncomingMessage,
    o: Readonly<{
      start: number;
      end: number;
      expected: number;
      arm: (r: FailureReason) => void;
      fail: (reason: FailureReason, detail: string, bytes?: number) => void;
      abandon: (got: number) => boolean;
    }>,
    done: (sha256: string) => void,
  ): void {
    const { start, end, expected, arm, fail } = o;
    const why = answerProblem(res, start, end);
    if (why !== undefined) {
      fail(why[0], why[1]);
      return;
    }
    let got = 0;
    const hash = createHash("sha256");
    arm("stall");
    res.on("data", (b: Buffer) => {
      got += b.length;
      hash.update(b);
      this.bytes += b.length;
      if (got > expected) fail("length", `more than the ${expected} bytes asked for`);
      else if (got < expected && o.abandon(got)) fail("abandoned", `${got} of ${expected} bytes`, got);
      else arm("stall");
    });
    res.on("end", () => (got === expected ? done(hash.digest("hex")) : fail("length", `${got} bytes of ${expected}`)));
    res.on("error", (err) => fail("error", err.message));
    res.on("aborted", () => fail("error", "connection closed mid-body"));
  }

  close(): void {
    this.#http.destroy();
    this.#https.destroy();
  }
}
