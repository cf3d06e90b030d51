import { describe, expect, it } from "vitest";
import { type FillSpecInput, parseFillSpec } from "./spec.js";

const sha = "a".repeat(64);
const base: FillSpecInput = {
  server: "oca-1",
  contentPath: "/var/lib/edgefleet/content",
  bandwidthCap: "1.2Gbps",
  linkKeysDir: "/etc/edgefleet/link-keys",
  sources: { origin: "https://origin.example/", peers: [{ name: "oca-2", url: "http://10.0.0.2" }] },
  files: [{ path: "t1/v.mp4", bytes: 10, sha256: sha, peers: ["oca-2"] }],
};

describe("parseFillSpec", () => {
  it("accepts a good spec, normalising the cap to bytes/s and URLs without a trailing slash", () => {
    const s = parseFillSpec(base);
    expect(s.bandwidthCap).toBeCloseTo(150e6);
    expect(s.sources.origin).toBe("https://origin.example");
    expect(s.concurrency).toBe(4);
  });

  const file = (over: object) => ({ ...base, files: [{ path: "t/v.mp4", bytes: 1, sha256: sha, ...over }] });
  it.each([
    { name: "path with ..", spec: file({ path: "../etc/passwd" }), field: "fill.files.0.path" },
    { name: "absolute path", spec: file({ path: "/etc/passwd" }), field: "fill.files.0.path" },
    { name: "hidden segment", spec: file({ path: "t/.edgefleet/x" }), field: "fill.files.0.path" },
    { name: "upper-case sha", spec: file({ sha256: sha.toUpperCase() }), field: "fill.files.0.sha256" },
    { name: "negative size", spec: file({ bytes: -1 }), field: "fill.files.0.bytes" },
    { name: "unknown peer", spec: file({ peers: ["oca-9"] }), field: "fill.files.0.peers.0" },
    { name: "bad cap", spec: { ...base, bandwidthCap: "fast" }, field: "fill.bandwidthCap" },
    { name: "origin not http", spec: { ...base, sources: { origin: "ftp://o" } }, field: "fill.sources.origin" },
    { name: "relative content path", spec: { ...base, contentPath: "content" }, field: "fill.contentPath" },
    { name: "peers without link keys", spec: { ...base, linkKeysDir: undefined }, field: "fill.linkKeysDir" },
    {
      name: "duplicate path",
      spec: { ...base, files: [...base.files, ...base.files] },
      field: "fill.files.1.path",
    },
  ])("rejects $name, naming $field", ({ spec, field }) => {
    expect(() => parseFillSpec(spec)).toThrow(`${field}:`);
  });
});
