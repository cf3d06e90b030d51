import { readFile } from "node:fs/promises";
import type { KtlsState } from "../../operator/src/api/index.js";

export type KtlsMode = "auto" | "required" | "off";

export type KtlsProbe = Readonly<{
  /** Upper-layer protocols the kernel has loaded (tcp_available_ulp); "tls" means kTLS can be used. */
  ulps: readonly string[];
  /** Counters from /proc/net/tls_stat, absent where the tls module is not loaded. */
  tlsStat: Readonly<Record<string, number>> | undefined;
}>;

export const PROC_ULP = "/proc/sys/net/ipv4/tcp_available_ulp";
export const PROC_TLS_STAT = "/proc/net/tls_stat";

export function parseAvailableUlp(text: string): string[] {
  return text.split(/\s+/).filter((s) => s.length > 0);
}

/** Parses /proc/net/tls_stat ("TlsTxSw  12" per line). Throws on a line that is not name + integer. */
export function parseTlsStat(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    const m = /^\s*(\w+)\s+(\d+)\s*$/.exec(line);
    if (!m?.[1] || !m[2]) throw new Error(`tls_stat: line ${JSON.stringify(line)} is not "<name> <integer>"`);
    out[m[1]] = Number(m[2]);
  }
  return out;
}

/** The kernel can do kTLS when the tls ULP is loaded; tls_stat exists only then too. */
export function kernelHasKtls(p: KtlsProbe): boolean {
  return p.ulps.includes("tls") || p.tlsStat !== undefined;
}

/**
 * Sessions that kTLS has carried (software or NIC offload). Non-zero proves nginx really uses it,
 * which a loaded module alone does not (OpenSSL may be built without KTLS).
 */
export function ktlsSessions(p: KtlsProbe): number {
  const s = p.tlsStat;
  if (!s) return 0;
  return (s.TlsTxSw ?? 0) + (s.TlsTxDevice ?? 0) + (s.TlsRxSw ?? 0) + (s.TlsRxDevice ?? 0);
}

export function ktlsState(mode: KtlsMode, p: KtlsProbe): KtlsState {
  return mode !== "off" && kernelHasKtls(p) ? "active" : "unavailable";
}

export type Readiness = Readonly<{ ready: boolean; reason: string }>;

/** `required` keeps the pod unready without kTLS; `auto` falls back to userspace TLS and stays ready. */
export function ktlsReadiness(mode: KtlsMode, p: KtlsProbe): Readiness {
  const has = kernelHasKtls(p);
  if (mode === "required" && !has) {
    return {
      ready: false,
      reason: `ktls mode is required but the kernel has no tls ULP (${PROC_ULP}: ${p.ulps.join(" ") || "empty"})`,
    };
  }
  if (mode === "off") return { ready: true, reason: "ktls off: userspace TLS" };
  return { ready: true, reason: has ? "ktls available" : "ktls unavailable: nginx falls back to userspace TLS" };
}

/** Reads the two proc files; a missing file means "not there", any other error is thrown. */
export async function probeKtls(paths = { ulp: PROC_ULP, tlsStat: PROC_TLS_STAT }): Promise<KtlsProbe> {
  const ulp = await readIfExists(paths.ulp);
  const stat = await readIfExists(paths.tlsStat);
  return {
    ulps: ulp === undefined ? [] : parseAvailableUlp(ulp),
    tlsStat: stat === undefined ? undefined : parseTlsStat(stat),
  };
}

async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new Error(`reading ${path}`, { cause: err });
  }
}
