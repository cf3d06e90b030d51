import { LINK_KIDS_LOCATION } from "../../../operator/src/edge/nginx-config.js";

export type StubStatus = Readonly<{
  active: number;
  accepts: number;
  handled: number;
  requests: number;
  reading: number;
  writing: number;
  waiting: number;
}>;

/**
 * Parses nginx's stub_status page:
 *   Active connections: 2
 *   server accepts handled requests
 *    10 10 31
 *   Reading: 0 Writing: 1 Waiting: 1
 */
export function parseStubStatus(text: string): StubStatus {
  const m =
    /Active connections:\s*(\d+)\s+server accepts handled requests\s+(\d+)\s+(\d+)\s+(\d+)\s+Reading:\s*(\d+)\s+Writing:\s*(\d+)\s+Waiting:\s*(\d+)/.exec(
      text,
    );
  if (!m) throw new Error(`not an nginx stub_status page: ${JSON.stringify(text.slice(0, 120))}`);
  const n = m.slice(1).map(Number);
  return {
    active: n[0] ?? 0,
    accepts: n[1] ?? 0,
    handled: n[2] ?? 0,
    requests: n[3] ?? 0,
    reading: n[4] ?? 0,
    writing: n[5] ?? 0,
    waiting: n[6] ?? 0,
  };
}

export async function readStubStatus(url: string, signal?: AbortSignal): Promise<StubStatus> {
  const res = await fetch(url, { signal: signal ?? AbortSignal.timeout(2000) });
  if (res.status !== 200) throw new Error(`${url}: HTTP ${res.status}`);
  return parseStubStatus(await res.text());
}

/**
 * The link key ids nginx holds now (its verifier lists its key directory: edge/link-verifier.ts `kids`,
 * served on the loopback status server next to stub_status). Undefined when nginx does not answer.
 */
export async function readLinkKids(statusUrl: string, signal?: AbortSignal): Promise<string[] | undefined> {
  const url = new URL(LINK_KIDS_LOCATION, statusUrl);
  const res = await fetch(url, { signal: signal ?? AbortSignal.timeout(2000) }).catch(() => undefined);
  if (res?.status !== 200) return undefined;
  const text = (await res.text()).trim();
  return text === "" ? [] : text.split(",");
}
