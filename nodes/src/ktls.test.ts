import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  type KtlsProbe,
  kernelHasKtls,
  ktlsReadiness,
  ktlsSessions,
  ktlsState,
  parseAvailableUlp,
  parseTlsStat,
  probeKtls,
} from "./ktls.js";

const noTls: KtlsProbe = { ulps: ["mptcp"], tlsStat: undefined };
const tlsIdle: KtlsProbe = { ulps: ["mptcp", "tls"], tlsStat: { TlsTxSw: 0, TlsRxSw: 0 } };
const tlsUsed: KtlsProbe = { ulps: ["tls"], tlsStat: { TlsTxSw: 7, TlsTxDevice: 2 } };

describe("parsers", () => {
  it.each([
    { name: "empty", text: "\n", want: [] },
    { name: "mptcp only (this machine's kernel)", text: "mptcp\n", want: ["mptcp"] },
    { name: "tls loaded", text: "espintcp mptcp tls\n", want: ["espintcp", "mptcp", "tls"] },
  ])("tcp_available_ulp: $name", ({ text, want }) => expect(parseAvailableUlp(text)).toEqual(want));

  it("tls_stat counters", () => {
    const text = "TlsCurrTxSw                     \t1\nTlsTxSw                         \t12\nTlsTxDevice \t0\n";
    expect(parseTlsStat(text)).toEqual({ TlsCurrTxSw: 1, TlsTxSw: 12, TlsTxDevice: 0 });
  });

  it("tls_stat rejects a malformed line, naming it", () => {
    expect(() => parseTlsStat("TlsTxSw x\n")).toThrow(/TlsTxSw x/);
  });
});

describe("state and readiness", () => {
  it.each([
    {
      name: "auto, no tls module → unavailable, ready (userspace fallback)",
      mode: "auto",
      p: noTls,
      state: "unavailable",
      ready: true,
    },
    {
      name: "required, no tls module → unavailable, NOT ready",
      mode: "required",
      p: noTls,
      state: "unavailable",
      ready: false,
    },
    { name: "off, no tls module → unavailable, ready", mode: "off", p: noTls, state: "unavailable", ready: true },
    { name: "auto, tls loaded → active", mode: "auto", p: tlsIdle, state: "active", ready: true },
    { name: "required, tls loaded → active, ready", mode: "required", p: tlsIdle, state: "active", ready: true },
    {
      name: "off, tls loaded → unavailable (nginx not told to use it)",
      mode: "off",
      p: tlsIdle,
      state: "unavailable",
      ready: true,
    },
  ] as const)("$name", ({ mode, p, state, ready }) => {
    expect(ktlsState(mode, p)).toBe(state);
    expect(ktlsReadiness(mode, p).ready).toBe(ready);
  });

  it("tls_stat alone proves the module is loaded", () => {
    expect(kernelHasKtls({ ulps: [], tlsStat: {} })).toBe(true);
  });

  it("sessions count software and device offload", () => {
    expect(ktlsSessions(tlsUsed)).toBe(9);
    expect(ktlsSessions(noTls)).toBe(0);
  });
});

describe("probeKtls", () => {
  it("reads the files, and a missing tls_stat means no module", async () => {
    const dir = await mkdtemp(join(tmpdir(), "ktls-"));
    try {
      await writeFile(join(dir, "ulp"), "mptcp tls\n");
      await writeFile(join(dir, "stat"), "TlsTxSw\t3\n");
      expect(await probeKtls({ ulp: join(dir, "ulp"), tlsStat: join(dir, "stat") })).toEqual({
        ulps: ["mptcp", "tls"],
        tlsStat: { TlsTxSw: 3 },
      });
      expect(await probeKtls({ ulp: join(dir, "ulp"), tlsStat: join(dir, "none") })).toEqual({
        ulps: ["mptcp", "tls"],
        tlsStat: undefined,
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("this machine's kernel: the probe agrees with /proc, and auto mode falls back where tls is missing", async () => {
    const p = await probeKtls();
    const has = kernelHasKtls(p);
    // The project's machine has no tls module (tcp_available_ulp = "mptcp"): the fallback is what runs here.
    expect(ktlsState("auto", p)).toBe(has ? "active" : "unavailable");
    expect(ktlsReadiness("auto", p).ready).toBe(true);
    expect(ktlsReadiness("required", p).ready).toBe(has);
  });
});
