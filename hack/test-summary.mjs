// Prints "N passed, N failed[, N skipped]" from a vitest JSON report; exits 1 when the report is missing
// or no test ran, so that an empty run is never mistaken for a green one.
import { readFileSync } from "node:fs";

const file = process.argv[2];
let r;
try {
  r = JSON.parse(readFileSync(file, "utf8"));
} catch (err) {
  console.log("0 passed, 0 failed");
  console.error(`no vitest report at ${file}: ${err.message}`);
  process.exit(1);
}
const skipped = r.numPendingTests + r.numTodoTests;
// A file that failed outside its tests (a hook, an import) counts once more: its failure is in no test.
const failed =
  r.numFailedTests +
  r.testResults.filter((t) => t.status === "failed" && !t.assertionResults.some((a) => a.status === "failed")).length;
console.log(`${r.numPassedTests} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`);
process.exit(r.numPassedTests > 0 && failed === 0 ? 0 : 1);
