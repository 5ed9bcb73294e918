// Runs graphql-http's GraphQL-over-HTTP audit against a running server and prints
// one JSON array of {id, name, status, reason} on stdout (tests/test_http_audit.py reads it).
// Usage: node audit.mjs http://127.0.0.1:PORT/graphql
import { auditServer } from 'graphql-http';

const url = process.argv[2];
if (!url) {
  console.error('usage: node audit.mjs URL');
  process.exit(2);
}

const results = await auditServer({ url });
const report = [];
for (const result of results) {
  const entry = { id: result.id, name: result.name, status: result.status };
  if (result.status !== 'ok') {
    entry.reason = result.reason;
    // The body of a failing answer says why far better than the status alone.
    try {
      entry.response = {
        status: result.response.status,
        body: (await result.response.text()).slice(0, 500),
      };
    } catch {
      // The body may already have been read by the audit itself.
    }
  }
  report.push(entry);
}
process.stdout.write(JSON.stringify(report) + '\n');
