// Prints the closing "N passed, N failed, N skipped" line, and fails when a test was skipped (or left
// as todo) without a line in the allow-list naming it. A test that cannot run must say so and be listed.
import * as fs from 'node:fs';

const [resultsFile, allowFile] = process.argv.slice(2);
const r = JSON.parse(fs.readFileSync(resultsFile, 'utf8'));
const allowed = fs
  .readFileSync(allowFile, 'utf8')
  .split('\n')
  .map((l) => l.replace(/#.*/, '').trim())
  .filter(Boolean);
const skipped = [];
for (const file of r.testResults) {
  for (const t of file.assertionResults) {
    if (t.status === 'pending' || t.status === 'skipped' || t.status === 'todo') skipped.push(t.fullName);
  }
}
console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed, ${skipped.length} skipped`);
const unexpected = skipped.filter((name) => !allowed.some((a) => name.includes(a)));
if (unexpected.length) {
  console.error(`skipped tests not on .ci/allowed-skips:\n  ${unexpected.join('\n  ')}`);
  process.exit(1);
}
