export { clientAddress, TrustedProxies } from "./client-address.js";
export {
  CURRENT_VIEW,
  expiryAfterOutage,
  type FleetView,
  type LivenessClock,
  livenessClock,
  type Outage,
} from "./freshness.js";
export { greatCircleKm } from "./geo.js";
export {
  createSteeringServer,
  parseSteeringConfig,
  STALE_HEADER,
  SteeringConfigError,
  type SteeringServer,
  SteeringServiceConfig,
  type SteeringServiceDeps,
} from "./http.js";
export { type Cidr, formatIp, InvalidAddressError, type IpAddress, parseCidr, parseIp } from "./ip.js";
export { clusterHealth, isServerLive, liveSetKey } from "./liveness.js";
export { ManifestCache } from "./manifest-cache.js";
export { buildManifest, type Manifest, pickHolder } from "./playback.js";
export { IPV4_STRIDES, IPV6_STRIDES, Ipv4PrefixTable, Ipv6PrefixTable, type PrefixList } from "./prefix-table.js";
export { type HealthPolicy, type RankedCluster, type Ranking, rankClusters } from "./rank.js";
export { RateLimiter, type RateLimitOptions } from "./rate-limit.js";
export { SignUrlError, type SignUrlInput, signUrl } from "./sign-url.js";
export type {
  Announcement,
  ClusterHealth,
  ClusterView,
  LadderEntry,
  LatLon,
  LocateFile,
  Rung,
  ServerEndpoint,
  TitleView,
} from "./snapshot.js";
export { buildSteeringIndex, type SteeringIndex, SteeringInputError } from "./steering-index.js";
export { type SteeringState, SteeringStore } from "./store.js";
