/**
 * The chart's alerting rules through the real promtool (Debian's prometheus package, installed by
 * hack/system-deps.sh): they parse (`promtool check rules`), and every alert fires on the series meant to
 * fire it and stays silent on the others (`promtool test rules`, test/monitoring/alerts.promtool.yaml).
 */
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { alerts, alertsFile, promtoolTests } from "./queries.js";

const run = promisify(execFile);

async function promtool(...args: string[]): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await run("promtool", args);
    return { code: 0, out: stdout + stderr };
  } catch (err) {
    const e = err as { code?: number | string; stdout?: string; stderr?: string };
    if (e.code === "ENOENT") throw new Error("promtool not found: run hack/system-deps.sh (Debian package prometheus)");
    return { code: typeof e.code === "number" ? e.code : 1, out: `${e.stdout ?? ""}${e.stderr ?? ""}` };
  }
}

describe("alerting rules (charts/edgefleet/files/alerts.yaml)", () => {
  it("pass promtool check rules", async () => {
    const r = await promtool("check", "rules", alertsFile);
    expect(r.out).toContain(`SUCCESS: ${alerts().length} rules found`);
    expect(r.code, r.out).toBe(0);
  });

  it("pass promtool test rules", async () => {
    const r = await promtool("test", "rules", promtoolTests);
    expect(r.out).toContain("SUCCESS");
    expect(r.code, r.out).toBe(0);
  });

  type Case = { alertname: string; exp_alerts: unknown[] };
  const cases = (parse(readFileSync(promtoolTests, "utf8")) as { tests: { alert_rule_test?: Case[] }[] }).tests.flatMap(
    (t) => t.alert_rule_test ?? [],
  );

  it.each(alerts().map((a) => ({ name: a.alert })))("$name has a promtool case that fires it", ({ name }) => {
    expect(cases.some((c) => c.alertname === name && c.exp_alerts.length > 0)).toBe(true);
  });

  it.each(alerts().map((a) => ({ name: a.alert, a })))("$name has a severity and a summary", ({ a }) => {
    expect(["warning", "critical"]).toContain(a.labels?.severity);
    expect(a.annotations?.summary).toBeTruthy();
    expect(a.annotations?.description).toBeTruthy();
  });
});
