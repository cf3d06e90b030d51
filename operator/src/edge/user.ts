/**
 * The user every edge process runs as: nginx, the agent, fill and evict. nodes/Dockerfile creates it
 * (edgefleet, 101:101, as the official nginx image numbers its own), the pod specs the operator renders
 * run as it (controllers/pod-security.ts), and the fill Job hands the content directory to it
 * (`edgefleet-agent own-content`). Numeric, so the kubelet can check runAsNonRoot without the image.
 */
export const edgeUser = { uid: 101, gid: 101 } as const;
