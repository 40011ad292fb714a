// Run SQL statements with DuckDB (npm @duckdb/node-api) and print the
// rows of each as JSON lines: the DuckDB peer of make bench.
//   node query.mjs 'SQL' ['SQL'...]
// DUCKDB_THREADS=N in the environment runs SET threads=N first (the bench
// times DuckDB with the same threads as the idem tool it compares to).
import { DuckDBInstance } from '@duckdb/node-api';

if (process.argv.length < 3) {
	process.stderr.write('usage: node query.mjs SQL...\n');
	process.exit(2);
}
const db = await DuckDBInstance.create(':memory:');
const con = await db.connect();
const threads = process.env.DUCKDB_THREADS;
if (threads) {
	if (!/^[1-9][0-9]*$/.test(threads)) {
		process.stderr.write(`query.mjs: DUCKDB_THREADS=${threads}: not a whole number\n`);
		process.exit(2);
	}
	await con.run(`SET threads=${threads}`);
}
const out = [];
for (const sql of process.argv.slice(2)) {
	const reader = await con.runAndReadAll(sql);
	for (const row of reader.getRowObjectsJson())
		out.push(JSON.stringify(row));
}
process.stdout.write(out.length ? out.join('\n') + '\n' : '');
