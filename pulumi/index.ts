/**
 * A region's stack: `pulumi stack select eu-west && pulumi up` (see README.md). Everything it creates
 * is in src/region.ts (EdgefleetRegion); its configuration is Pulumi.<stack>.yaml, checked by src/config.ts.
 */
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { regionProgram } from "./src/program.js";

export default regionProgram(dirname(fileURLToPath(import.meta.url)));
