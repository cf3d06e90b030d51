import { describe, expect, it } from "vitest";
import { SignUrlError, signUrl } from "./sign-url.js";

// Vectors computed independently:
//   printf '%s' '<expires><path> <secret>' | openssl md5 -binary | base64 | tr '+/' '-_' | tr -d '='
describe("signUrl", () => {
  it.each([
    {
      name: "title file",
      input: {
        baseUrl: "https://192.0.2.10",
        path: "/title-42/video/h264_1080p.mp4",
        secret: "s3cret-signing-key",
        expiresAt: new Date(1_893_456_000_000),
      },
      want: "https://192.0.2.10/title-42/video/h264_1080p.mp4?md5=mBfGfCkbMXxD5Lhvaja9uw&expires=1893456000",
    },
    {
      name: "IPv6 host with port, trailing slash, sub-second expiry truncated",
      input: {
        baseUrl: "https://[2001:db8::10]:8443/",
        path: "/a/b.m4s",
        secret: "0123456789abcdef",
        expiresAt: new Date(2_147_483_647_999),
      },
      want: "https://[2001:db8::10]:8443/a/b.m4s?md5=3S6RDGlfZsMOmXul6QO_3g&expires=2147483647",
    },
  ])("$name", ({ input, want }) => expect(signUrl(input)).toBe(want));

  const ok = { baseUrl: "https://edge", path: "/a.mp4", secret: "0123456789abcdef", expiresAt: new Date(1e12) };
  it.each([
    { name: "base URL with a path", o: { baseUrl: "https://edge/x" }, want: /^baseUrl: / },
    { name: "base URL not http", o: { baseUrl: "ftp://edge" }, want: /^baseUrl: / },
    { name: "relative path", o: { path: "a.mp4" }, want: /^path: / },
    { name: "dot-dot segment", o: { path: "/a/../b.mp4" }, want: /^path: / },
    { name: "dot segment", o: { path: "/a/./b.mp4" }, want: /^path: / },
    { name: "percent-encoded path", o: { path: "/a%20b.mp4" }, want: /^path: / },
    { name: "empty segment", o: { path: "/a//b.mp4" }, want: /^path: / },
    { name: "query in path", o: { path: "/a.mp4?x=1" }, want: /^path: / },
    { name: "short secret", o: { secret: "short" }, want: /^secret: / },
    { name: "secret with a space", o: { secret: "0123456789 abcdef" }, want: /^secret: / },
    { name: "invalid date", o: { expiresAt: new Date(Number.NaN) }, want: /^expiresAt: / },
  ])("rejects $name", ({ o, want }) => {
    expect(() => signUrl({ ...ok, ...o })).toThrow(SignUrlError);
    expect(() => signUrl({ ...ok, ...o })).toThrow(want);
  });
});
