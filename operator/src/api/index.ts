/** cdn.edgefleet.dev/v1alpha1: schemas, types, validation and CRD rendering. */
export * from "./agent-report.js";
export * from "./common.js";
export * from "./crd.js";
export * from "./heartbeat.js";
export * from "./ip.js";
export * from "./kinds.js";
export * from "./ocacluster.js";
export * from "./paths.js";
export * from "./placement.js";
export * from "./popularity.js";
export * from "./quantity.js";
export * from "./resources.js";
export * from "./rules.js";
export * from "./title.js";
export * from "./validate.js";
