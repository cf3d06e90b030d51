import { defineConfig } from "vitest/config";

// Unit tests sit beside the code and need no cluster. Integration tests share one control plane,
// started by test/integration/global-setup.ts (or the cluster KUBECONFIG points at).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: ["operator/**/*.test.ts", "nodes/**/*.test.ts", "hack/**/*.test.ts", "pulumi/**/*.test.ts"],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: "integration",
          include: ["test/integration/**/*.test.ts"],
          globalSetup: ["test/integration/global-setup.ts"],
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 300_000,
        },
      },
    ],
  },
});
