/**
 * npm run cluster:up     starts the local control plane; its last line is the kubeconfig path
 * npm run cluster:down   stops it and removes its data directory
 * npm run cluster:status prints each component's memory and whether the API server answers
 * EDGEFLEET_CLUSTER_NAME and EDGEFLEET_CLUSTER_DIR choose the cluster and its data directory.
 */
import {
  ClusterError,
  clusterDown,
  clusterUp,
  componentMemory,
  defaultWorkdir,
  ensureBinaries,
  isReady,
} from "./local-cluster.js";

const name = process.env.EDGEFLEET_CLUSTER_NAME ?? "edgefleet";
const workdir = defaultWorkdir();

async function main(cmd: string | undefined): Promise<void> {
  switch (cmd) {
    case "up": {
      const t0 = performance.now();
      const c = await clusterUp(name, workdir);
      console.error(`cluster ${c.name} ready in ${((performance.now() - t0) / 1000).toFixed(1)}s; logs in ${c.logs}`);
      console.log(c.kubeconfig);
      return;
    }
    case "down":
      await clusterDown(name, workdir);
      console.error(`cluster ${name} deleted`);
      return;
    case "status": {
      const { kubectl } = await ensureBinaries(["kubectl"]);
      const kubeconfig = `${workdir}/clusters/${name}/kubeconfig.yaml`;
      const ready = await isReady(kubectl, kubeconfig);
      const components = await componentMemory(name, workdir);
      for (const c of components) console.log(`${c.component}\tpid ${c.pid}\t${c.rssMB} MB RSS`);
      if (components.length) console.log(`total\t\t${components.reduce((a, c) => a + c.rssMB, 0)} MB RSS`);
      console.log(ready ? `ready ${kubeconfig}` : "down");
      process.exitCode = ready ? 0 : 1;
      return;
    }
    default:
      console.error("usage: cluster.ts up|down|status");
      process.exitCode = 2;
  }
}

main(process.argv[2]).catch((err: unknown) => {
  console.error(err instanceof ClusterError ? `error: ${err.message}` : err);
  process.exitCode = 1;
});
