export { assign } from "./assign.js";
export { Assignment, AssignmentBuilder, type Balance, balance } from "./assignment.js";
export { ringAssign, UNIFORM_TOKENS } from "./baseline.js";
export { type Churn, churn } from "./churn.js";
export { keyPosition, replicaPosition, serverSeed, tokenPosition } from "./hash.js";
export {
  catalogFingerprint,
  type PlanExpectations,
  type PlanInput,
  type PlanResult,
  planHca,
  type ServerExpectation,
} from "./hca.js";
export { ringNeighbours } from "./neighbours.js";
export { Ring } from "./ring.js";
export { type Served, served } from "./served.js";
export { fileTraffic, HCA, type StoredSet, storedSet } from "./stored.js";
export {
  type CatalogFile,
  InfeasiblePlacementError,
  PlacementInputError,
  type Plan,
  type Server,
  type ServerTokens,
} from "./types.js";
export { canonicalServers } from "./validate.js";
