// Prints "N passed, N failed[, N skipped]" from one or more vitest JSON reports (unit and integration,
// then the kind e2e run). A missing or empty report (its run failed before any test, e.g. an image build)
// counts as one failure; exits 1 when anything failed or no test ran, so that an empty run is never
// mistaken for a green one.
import { readFileSync } from "node:fs";

let passed = 0;
let failed = 0;
let skipped = 0;
for (const file of process.argv.slice(2)) {
  let r;
  try {
    r = JSON.parse(readFileSync(file, "utf8"));
  } catch (err) {
    console.error(`no vitest report at ${file}: ${err.message}`);
    failed += 1;
    continue;
  }
  passed += r.numPassedTests;
  skipped += r.numPendingTests + r.numTodoTests;
  // A file that failed outside its tests (a hook, an import) counts once more: its failure is in no test.
  failed +=
    r.numFailedTests +
    r.testResults.filter((t) => t.status === "failed" && !t.assertionResults.some((a) => a.status === "failed")).length;
}
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`);
process.exit(passed > 0 && failed === 0 ? 0 : 1);
