// Manual interop check (not part of CI: it needs a checkout of the reference Signet, which CI does not have).
// Walks an audit directory the way the reference's verify_chain does (every *.jsonl in ascending name order, blank
// lines skipped, prev_hash must equal the previous record_hash, record_hash recomputed) and computes each hash with
// the reference's own WASM (wasm_content_hash = its canonicalizer + SHA-256).
//
//   SIGNET_REFERENCE=/path/to/signet node tests/interop/reference-chain-check.cjs AUDIT_DIR
//
// Prints {"valid":true,"total_records":N,"tip":"sha256:…"} or the first break, like `signet audit --verify --chain`.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const reference = process.env.SIGNET_REFERENCE;
if (!reference || process.argv.length < 3) {
  console.error('usage: SIGNET_REFERENCE=/path/to/signet node reference-chain-check.cjs AUDIT_DIR');
  process.exit(2);
}
const signet = require(path.join(reference, 'plugins', 'claude-code', 'lib', 'signet.cjs'));
const dir = process.argv[2];
let expected = 'sha256:' + '0'.repeat(64);
let total = 0;
for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.jsonl')).sort()) {
  const lines = fs.readFileSync(path.join(dir, file), 'utf8').split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (!lines[i].trim()) continue;
    total++;
    const record = JSON.parse(lines[i]);
    if (record.prev_hash !== expected) {
      console.log(JSON.stringify({ valid: false, file, line: i + 1, expected, actual: record.prev_hash }));
      process.exit(1);
    }
    const recomputed = signet.contentHash({ prev_hash: record.prev_hash, receipt: record.receipt });
    if (recomputed !== record.record_hash) {
      console.log(JSON.stringify({ valid: false, file, line: i + 1, expected: recomputed, actual: record.record_hash }));
      process.exit(1);
    }
    expected = record.record_hash;
  }
}
console.log(JSON.stringify({ valid: true, total_records: total, tip: expected }));
