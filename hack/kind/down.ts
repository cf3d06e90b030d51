/**
 * `npm run kind:down [-- NAME...]`: deletes the kind clusters the demo and a kept e2e run left (default:
 * edgefleet-demo and edgefleet-e2e), then stops Docker Engine if hack/kind/docker.sh started it.
 */
import { deleteKindCluster, KindStepError, kindClusterExists, stopDocker } from "./cluster.js";

const names = process.argv.slice(2).length > 0 ? process.argv.slice(2) : ["edgefleet-demo", "edgefleet-e2e"];
try {
  for (const name of names) {
    if (!(await kindClusterExists(name))) continue;
    await deleteKindCluster(name);
    console.log(`deleted kind cluster ${name}`);
  }
  await stopDocker();
} catch (err) {
  console.error(err instanceof KindStepError ? err.message : String(err));
  process.exitCode = 1;
}
