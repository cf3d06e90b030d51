export { buildLadder, totalBytes, upperHull } from "./hull.js";
