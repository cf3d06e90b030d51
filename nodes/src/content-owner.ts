/**
 * `edgefleet-agent own-content`: hands the content directory to the edge user before fill or evict run
 * as it. The kubelet creates the hostPath root-owned; disks filled before the agent ran as the edge
 * user hold root-owned files and directories too. Runs as uid 0 with CAP_CHOWN alone (the fill Job's
 * init container, controllers/pod-security.ts).
 *
 * Post-order, so a directory is handed over only after everything in it: one that is already the edge
 * user's was made by it (the fill's mkdir) or finished by an earlier run, and is not entered again, so
 * the steady state is one stat. Never follows a symlink (lchown, lstat) nor leaves the filesystem.
 */
import { lchown, lstat, mkdir, readdir } from "node:fs/promises";
import { join } from "node:path";

export type Owner = Readonly<{ uid: number; gid: number }>;

/** Makes `root` (creating it when missing) and everything in it not yet `owner`'s owned by `owner`; returns how many it changed. */
export async function ownContent(root: string, owner: Owner): Promise<number> {
  await mkdir(root, { recursive: true });
  const { dev } = await lstat(root);
  const own = async (path: string): Promise<number> => {
    const st = await lstat(path);
    if (st.dev !== dev || (st.uid === owner.uid && st.gid === owner.gid)) return 0;
    let changed = 0;
    if (st.isDirectory()) for (const name of await readdir(path)) changed += await own(join(path, name));
    await lchown(path, owner.uid, owner.gid);
    return changed + 1;
  };
  return own(root);
}
