/**
 * `fill` and `evict` as the Job runs them: read the objects, check the directory is a content root,
 * take its lock (reading the objects again if another fill or evict held it), compute what this
 * server keeps, then fill or evict, and say how it ended (exit code and report, api/agent-report.ts).
 */
import type { Logger } from "pino";
import { type AgentReport, agentExit, type Placement, phaseOf, promotedAt } from "../../../operator/src/api/index.js";
import { checkContentRoot, claimable, markContentRoot } from "./content-root.js";
import {
  checkPromoted,
  fillSpecFor,
  keptFiles,
  keptPlacements,
  type PlacementInputs,
  PlacementMismatchError,
} from "./from-placement.js";
import { lockContent } from "./lock.js";
import type { PlacementRef } from "./read-placement.js";
import { type KeptFile, runEvict, runFill, type StatFs } from "./run.js";

export type CommandOptions = Readonly<{
  ref: PlacementRef;
  server: string;
  /** --content; the OCACluster's spec.edge.contentPath when absent. */
  content?: string | undefined;
  linkKeysDir?: string | undefined;
  /**
   * --grace-seconds: how long a superseded Placement's files stay (signed URLs still point at them),
   * and how long after its promotion an evict may start. The operator passes its evict delay.
   */
  graceSeconds: number;
  /** How long to wait for another fill or evict of the same directory. */
  lockWaitMs: number;
}>;

export type CommandDeps = Readonly<{
  read: () => Promise<{ inputs: PlacementInputs; invalid: string[] }>;
  log: Logger;
  now: () => Date;
  signal: AbortSignal;
  statfs?: StatFs | undefined;
  sleep: (ms: number, signal: AbortSignal) => Promise<void>;
}>;

/** The exit code, the short report for the termination message, and the full one for stdout. */
export type CommandResult = Readonly<{ code: number; report: AgentReport; stdout: object }>;

const refOf = (r: PlacementRef) => `${r.namespace}/${r.name}`;

async function readLogged(d: CommandDeps): Promise<PlacementInputs> {
  const { inputs, invalid } = await d.read();
  for (const why of invalid) d.log.warn({ why }, "left out of the catalog, as the operator leaves it out");
  return inputs;
}

/**
 * The files this server keeps besides the target's: those of every kept Placement (live, or superseded
 * within the grace) and of the Active one the cluster names. Throws PlacementMismatchError when they
 * cannot be known: the Placements were not read, the Active one named is missing, or one cannot be
 * assigned.
 */
export function keepOf(inputs: PlacementInputs, server: string, now: Date, graceSeconds: number): KeptFile[] {
  const named = inputs.cluster.status?.activePlacement;
  if (inputs.placements === undefined) throw new PlacementMismatchError("the namespace's Placements were not read");
  if (named !== undefined && inputs.active?.metadata.name !== named) {
    throw new PlacementMismatchError(`the Active placement ${named} the OCACluster names could not be read`);
  }
  const kept = keptPlacements(inputs.placements, inputs.cluster.metadata.name, now, graceSeconds);
  // The Active one the cluster's status names, unless that status lags a promotion since (it is
  // Superseded then, and kept above as long as its grace holds).
  const active = inputs.active && phaseOf(inputs.active) !== "Superseded" ? [inputs.active] : [];
  const extra: Placement[] = [inputs.placement, ...active].filter(
    (p) => !kept.some((k) => k.metadata.name === p.metadata.name),
  );
  return keptFiles(inputs, [...kept, ...extra], server);
}

export async function fillCommand(o: CommandOptions, d: CommandDeps): Promise<CommandResult> {
  let inputs = await readLogged(d);
  const contentPath = o.content ?? inputs.cluster.spec.edge.contentPath;
  const claim = await claimable(contentPath);
  const holder = `fill of ${refOf(o.ref)} for ${o.server} (pid ${process.pid})`;
  const lock = await lockContent(contentPath, { holder, waitMs: o.lockWaitMs, signal: d.signal, now: d.now });
  try {
    if (lock.waitedMs > 0) inputs = await readLogged(d); // what changed while another held the disk
    if (claim === "claimable") await markContentRoot(contentPath, `fill of ${refOf(o.ref)}`, d.now());
    const { spec, active } = fillSpecFor(inputs, { server: o.server, contentPath, linkKeysDir: o.linkKeysDir });
    let keep: KeptFile[] | undefined;
    try {
      keep = keepOf(inputs, o.server, d.now(), o.graceSeconds);
    } catch (err) {
      if (!(err instanceof PlacementMismatchError)) throw err;
      d.log.warn({ why: err.message }, "what the other Placements keep is unknown: the fill deletes nothing");
    }
    // Peers are asked in order: the file's holders under the Active placement, then under this one.
    const peersFirst = active.placement ?? `none (${active.why})`;
    d.log.info({ placement: refOf(o.ref), server: o.server, files: spec.files.length, peersFirst }, "fill starting");
    const report = await runFill(spec, {
      now: d.now,
      signal: d.signal,
      keep,
      statfs: d.statfs,
      onFile: (r) => d.log.info({ ...r }, r.status === "filled" ? "file filled" : "file failed"),
      onRemoved: (f) => d.log.info({ ...f }, "file removed: no kept placement names it"),
    });
    const code = !report.space.enough
      ? agentExit.noSpace
      : report.failed.files > 0
        ? agentExit.failedFiles
        : agentExit.ok;
    if (!report.space.enough) d.log.error({ ...report.space }, "not enough free space for the fill: nothing fetched");
    const short: AgentReport = {
      mode: "fill",
      server: o.server,
      failed: { files: report.failed.files, bytes: report.failed.bytes },
      ...(report.space.enough
        ? {}
        : { space: { needBytes: report.space.needBytes, freeBytes: report.space.freeBytes } }),
    };
    return { code, report: short, stdout: report };
  } finally {
    await lock.release();
  }
}

/**
 * Refuses (throws) unless the directory is a content root and the Placement is Active; a Superseded one
 * has nothing to do. Waits until `graceSeconds` after the promotion by this node's clock (the operator
 * starts it then by its own), then removes what no kept Placement names, under the lock.
 */
export async function evictCommand(o: CommandOptions, d: CommandDeps): Promise<CommandResult> {
  let inputs = await readLogged(d);
  const contentPath = o.content ?? inputs.cluster.spec.edge.contentPath;
  await checkContentRoot(contentPath);
  const nothing = (why: string): CommandResult => {
    d.log.info({ placement: refOf(o.ref) }, why);
    const report = { server: o.server, evicted: { files: 0, bytes: 0 }, partialsRemoved: 0 };
    return { code: agentExit.ok, report: { mode: "evict", server: o.server }, stdout: report };
  };
  if (checkPromoted(inputs.placement) === "superseded") return nothing("superseded: the newer placement's evict runs");
  const evictAt = (promotedAt(inputs.placement)?.getTime() ?? 0) + o.graceSeconds * 1000;
  const wait = evictAt - d.now().getTime();
  if (wait > 0) {
    d.log.info({ until: new Date(evictAt).toISOString() }, "waiting for signed URLs to the old files to expire");
    await d.sleep(wait, d.signal);
  }
  const holder = `evict of ${refOf(o.ref)} for ${o.server} (pid ${process.pid})`;
  const lock = await lockContent(contentPath, { holder, waitMs: o.lockWaitMs, signal: d.signal, now: d.now });
  try {
    if (lock.waitedMs > 0 || wait > 0) {
      inputs = await readLogged(d);
      if (checkPromoted(inputs.placement) === "superseded") return nothing("superseded while waiting");
    }
    const keep = keepOf(inputs, o.server, d.now(), o.graceSeconds);
    const report = await runEvict({ server: o.server, contentPath, keep });
    d.log.info({ ...report }, "evicted");
    return { code: agentExit.ok, report: { mode: "evict", server: o.server }, stdout: report };
  } finally {
    await lock.release();
  }
}
