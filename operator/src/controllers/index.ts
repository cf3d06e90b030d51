/** The operator's controllers, each declaring what it reconciles and what wakes it (runtime/manager.ts). */
import type { ControllerSpec } from "../runtime/manager.js";
import type { ControllerDeps } from "./deps.js";
import { edgeController } from "./edge.js";
import { fillController } from "./fill.js";
import { ocaclusterController } from "./ocacluster.js";
import { popularityController } from "./popularity.js";
import { titleController } from "./title.js";

export type { ControllerDeps } from "./deps.js";

export const controllers: readonly ControllerSpec<ControllerDeps>[] = [
  ocaclusterController,
  edgeController,
  titleController,
  popularityController,
  fillController,
];
