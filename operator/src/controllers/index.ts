/** The operator's controllers, each declaring what it reconciles and what wakes it (runtime/manager.ts). */
import type { ControllerSpec } from "../runtime/manager.js";
import type { LinkKeySource } from "../steering/link-keys.js";
import type { ControllerDeps } from "./deps.js";
import { edgeController } from "./edge.js";
import { fillController } from "./fill.js";
import { ocaclusterController } from "./ocacluster.js";
import { popularityController } from "./popularity.js";
import { titleController } from "./title.js";

export type { ControllerDeps } from "./deps.js";

/** The controllers, the edge one woken too when the master link keys change. */
export function controllers(linkKeys: Pick<LinkKeySource, "onChange">): readonly ControllerSpec<ControllerDeps>[] {
  return [ocaclusterController, edgeController(linkKeys), titleController, popularityController, fillController];
}
