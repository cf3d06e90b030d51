import { describe, expect, it } from "vitest";
import { type EdgeSettingsInput, renderNginxConf } from "./nginx-config.js";

const base: EdgeSettingsInput = {
  httpPort: 80,
  httpsPort: 443,
  statusPort: 8081,
  contentPath: "/var/lib/edgefleet/content",
  certPath: "/etc/edgefleet/tls/tls.crt",
  keyPath: "/etc/edgefleet/tls/tls.key",
  ktls: "auto",
  linkKeysDir: "/etc/edgefleet/link-keys",
  linkVerifierPath: "/run/edgefleet/edgefleet-link.js",
  runDir: "/run/nginx",
};
const conf = (over: Partial<EdgeSettingsInput> = {}) => renderNginxConf({ ...base, ...over });

describe("renderNginxConf", () => {
  it("is a pure function of the settings", () => expect(conf()).toBe(conf()));

  it.each([
    { name: "auto → KTLS option", ktls: "auto", has: true },
    { name: "required → KTLS option", ktls: "required", has: true },
    { name: "off → no KTLS option", ktls: "off", has: false },
  ] as const)("ktls $name", ({ ktls, has }) => {
    expect(conf({ ktls }).includes("ssl_conf_command Options KTLS;")).toBe(has);
  });

  it.each([
    { name: "sendfile", line: "sendfile on;" },
    { name: "tcp_nopush", line: "tcp_nopush on;" },
    { name: "aio threads", line: "aio threads;" },
    { name: "reuseport on http, both stacks", line: "listen *:80 reuseport;" },
    { name: "reuseport on https, IPv6", line: "listen [::]:443 ssl reuseport;" },
    { name: "content root", line: 'root "/var/lib/edgefleet/content";' },
    { name: "njs loaded", line: 'load_module "/usr/lib/nginx/modules/ngx_http_js_module.so";' },
    { name: "link verifier imported", line: 'js_import edgefleet_link from "/run/edgefleet/edgefleet-link.js";' },
    { name: "links checked", line: "js_set $edgefleet_link_denied edgefleet_link.denied;" },
    { name: "kids on loopback", line: "js_content edgefleet_link.kids;" },
    { name: "long cache headers", line: 'add_header Cache-Control "public, max-age=31536000, immutable";' },
    { name: "status on loopback", line: "listen 127.0.0.1:8081;" },
    { name: "no access log unless asked", line: "access_log off;" },
  ])("has $name", ({ line }) => expect(conf()).toContain(line));

  it("sendfile off for the copy baseline", () => expect(conf({ sendfile: false })).toContain("sendfile off;"));

  it("access log to the agent over syslog/udp", () =>
    expect(conf({ accessLogUdpPort: 5514 })).toContain("access_log syslog:server=127.0.0.1:5514"));

  it.each([
    { name: "port 0", over: { httpPort: 0 }, field: "edge.httpPort" },
    { name: "relative content path", over: { contentPath: "content" }, field: "edge.contentPath" },
    { name: "content path with ;", over: { contentPath: "/a;b" }, field: "edge.contentPath" },
    { name: "content path with $", over: { contentPath: "/a$b" }, field: "edge.contentPath" },
    { name: "unknown ktls mode", over: { ktls: "maybe" }, field: "edge.ktls" },
    { name: "same port twice", over: { httpsPort: 80 }, field: "edge.httpPort" },
    { name: "status on a port fetch() refuses", over: { statusPort: 10080 }, field: "edge.statusPort" },
    { name: "http on a port browsers refuse", over: { httpPort: 6000 }, field: "edge.httpPort" },
    { name: "hostname as listen address", over: { listen: ["localhost"] }, field: "edge.listen.0" },
    { name: "relative link keys directory", over: { linkKeysDir: "keys" }, field: "edge.linkKeysDir" },
    { name: "link verifier path with a quote", over: { linkVerifierPath: '/a"b.js' }, field: "edge.linkVerifierPath" },
  ])("rejects $name, naming $field", ({ over, field }) => {
    expect(() => conf(over as Partial<EdgeSettingsInput>)).toThrow(new RegExp(`${field.replaceAll(".", "\\.")}:`));
  });
});
