import { defineConfig } from "vitest/config";
import { BaseSequencer, type TestSpecification } from "vitest/node";

/** The kind e2e files tell one story in order (1-lifecycle, then 2-faults): they run last, by name. */
class E2EInOrder extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const e2e = (f: TestSpecification) => f.project.name === "e2e";
    const story = sorted.filter(e2e).sort((a, b) => a.moduleId.localeCompare(b.moduleId));
    return [...sorted.filter((f) => !e2e(f)), ...story];
  }
}

// Unit tests sit beside the code and need no cluster. Integration tests share one control plane,
// started by test/integration/global-setup.ts (or the cluster KUBECONFIG points at). The e2e suite runs
// on a kind cluster that `npm run e2e:kind` (hack/kind/e2e.ts) brings up; run alone, it is skipped.
export default defineConfig({
  test: {
    sequence: { sequencer: E2EInOrder },
    projects: [
      {
        test: {
          name: "unit",
          include: [
            "operator/**/*.test.ts",
            "player/**/*.test.ts",
            "nodes/**/*.test.ts",
            "hack/**/*.test.ts",
            "pulumi/**/*.test.ts",
            "test/monitoring/**/*.test.ts",
          ],
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
      {
        test: {
          name: "e2e",
          include: ["test/e2e/**/*.test.ts"],
          globalSetup: ["test/e2e/global-setup.ts"],
          fileParallelism: false,
          testTimeout: 600_000,
          hookTimeout: 900_000,
        },
      },
    ],
  },
});
