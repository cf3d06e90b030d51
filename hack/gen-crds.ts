/** Writes crds/<group>_<plural>.yaml for every kind in operator/src/api; `npm run gen:crds`. */
import { writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { crdFileName, crdYaml, kinds } from "../operator/src/api/index.js";

const crds = join(dirname(dirname(fileURLToPath(import.meta.url))), "crds");
for (const k of Object.values(kinds)) {
  const file = join(crds, crdFileName(k));
  await writeFile(file, crdYaml(k));
  console.log(file);
}
