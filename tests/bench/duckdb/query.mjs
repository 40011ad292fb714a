// Run SQL statements with DuckDB (npm @duckdb/node-api) and print the
// rows of each as JSON lines: the DuckDB peer of make bench.
//   node query.mjs 'SQL' ['SQL'...]
import { DuckDBInstance } from '@duckdb/node-api';

if (process.argv.length < 3) {
	process.stderr.write('usage: node query.mjs SQL...\n');
	process.exit(2);
}
const db = await DuckDBInstance.create(':memory:');
const con = await db.connect();
const out = [];
for (const sql of process.argv.slice(2)) {
	const reader = await con.runAndReadAll(sql);
	for (const row of reader.getRowObjectsJson())
		out.push(JSON.stringify(row));
}
process.stdout.write(out.length ? out.join('\n') + '\n' : '');
