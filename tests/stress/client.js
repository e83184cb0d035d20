#!/usr/bin/env node
// client.js - many concurrent clients against weir, for the stress tests.
//
// Load mode: CLIENTS concurrent clients send REQUESTS calls in all, each
// with its own X-Request-Id, spread over TENANTS bearer tokens (or one new
// random token per call with --distinct-tokens), a mix of GETs and POSTs.
// Every call must end exactly once, with an answer that carries its own
// request id back; anything else is counted as an error.  Prints one JSON
// line: sent, answered, errors, mismatched ids, statuses, latencies.
//
//   node client.js --port P [--clients 200] [--requests 2000]
//       [--tenants 50] [--post-ratio 0.3] [--timeout-ms 30000]
//       [--distinct-tokens 1]
//
// Hold mode: open HOLD calls at once, each on its own connection, and keep
// them waiting; print "sent N" once all are written, then hold until
// SIGTERM or SIGINT, close every connection, and print one JSON line
// (answered early, still waiting).
//
//   node client.js --port P --hold 5000 [--tenants 10]
//
// Tenants are named after a random tag per run, or --tag TAG, so that
// two runs may share them.
'use strict';
const http = require('http');
const crypto = require('crypto');

const opt = { port: 0, clients: 200, requests: 2000, tenants: 50,
	postRatio: 0.3, timeoutMs: 30000, distinctTokens: 0, hold: 0,
	tag: '' };
for (let i = 2; i < process.argv.length; i += 2) {
	const k = process.argv[i].replace(/^--/, '')
		.replace(/-([a-z])/g, (m, c) => c.toUpperCase());
	if (!(k in opt)) {
		console.error(`client.js: unknown option ${process.argv[i]}`);
		process.exit(2);
	}
	opt[k] = k === 'tag' ? process.argv[i + 1] : Number(process.argv[i + 1]);
}
if (!opt.port) {
	console.error('client.js: --port is required');
	process.exit(2);
}

// Never outlive the script that started us.
const ppid = process.ppid;
setInterval(() => { if (process.ppid !== ppid) process.exit(3); }, 500)
	.unref();

const runId = crypto.randomBytes(4).toString('hex');
const tag = opt.tag || runId;

function token(n) {
	if (opt.distinctTokens)
		return crypto.randomBytes(16).toString('hex');
	return `stress-${tag}-tenant-${n % opt.tenants}`;
}

// One call; resolves once with { status, err, ms }.
function call(agent, n) {
	return new Promise((resolve) => {
		const id = `stress-${runId}-${n}`;
		const post = Math.random() < opt.postRatio;
		const body = post ? JSON.stringify({ n, pad: 'x'.repeat(n % 200) })
		    : null;
		const headers = { 'Authorization': `Bearer ${token(n)}`,
		    'X-Request-Id': id };
		if (post) {
			headers['Content-Type'] = 'application/json';
			headers['Content-Length'] = Buffer.byteLength(body);
		}
		const t0 = Date.now();
		let done = false;
		const finish = (r) => {
			if (done) {
				r.twice = true;
				results.twice++;
				return;
			}
			done = true;
			r.ms = Date.now() - t0;
			resolve(r);
		};
		const req = http.request({ host: '127.0.0.1', port: opt.port,
		    method: post ? 'POST' : 'GET',
		    path: `/api/v2/stress/${n}?x=${n % 7}`, headers, agent,
		    timeout: opt.timeoutMs }, (res) => {
			res.resume();
			res.on('end', () => finish({ status: res.statusCode,
			    idOk: res.headers['x-request-id'] === id }));
			res.on('error', (e) => finish({ err: e.code || e.message }));
		});
		req.on('timeout', () => req.destroy(new Error('timeout')));
		req.on('error', (e) => finish({ err: e.code || e.message }));
		if (post)
			req.write(body);
		req.end();
	});
}

const results = { sent: 0, answered: 0, errors: 0, idMismatch: 0,
	twice: 0, statuses: {}, errorKinds: {} };

async function load() {
	const agent = new http.Agent({ keepAlive: true,
	    maxSockets: opt.clients });
	const lat = [];
	let next = 0;
	const t0 = Date.now();
	async function worker() {
		while (next < opt.requests) {
			const n = next++;
			results.sent++;
			const r = await call(agent, n);
			if (r.err !== undefined) {
				results.errors++;
				results.errorKinds[r.err] =
				    (results.errorKinds[r.err] || 0) + 1;
				continue;
			}
			results.answered++;
			if (!r.idOk)
				results.idMismatch++;
			results.statuses[r.status] =
			    (results.statuses[r.status] || 0) + 1;
			lat.push(r.ms);
		}
	}
	const workers = [];
	for (let i = 0; i < opt.clients; i++)
		workers.push(worker());
	await Promise.all(workers);
	agent.destroy();
	lat.sort((a, b) => a - b);
	const pct = (p) => lat.length ? lat[Math.min(lat.length - 1,
	    Math.floor(lat.length * p))] : 0;
	results.elapsedMs = Date.now() - t0;
	results.latencyMs = { p50: pct(0.5), p99: pct(0.99),
	    max: lat.length ? lat[lat.length - 1] : 0 };
	console.log(JSON.stringify(results));
}

function hold() {
	const reqs = [];
	const statuses = {};
	let answered = 0, failed = 0, written = 0;
	for (let n = 0; n < opt.hold; n++) {
		const req = http.request({ host: '127.0.0.1', port: opt.port,
		    method: 'GET', path: `/api/v2/hold/${n}`, agent: false,
		    headers: { 'Authorization': `Bearer ${token(n)}`,
		    'X-Request-Id': `hold-${runId}-${n}` } }, (res) => {
			answered++;
			statuses[res.statusCode] =
			    (statuses[res.statusCode] || 0) + 1;
			res.resume();
		});
		req.on('error', () => { failed++; });
		req.on('finish', () => {
			if (++written === opt.hold)
				console.log(`sent ${written}`);
		});
		req.end();
		reqs.push(req);
	}
	const stop = () => {
		for (const r of reqs)
			r.destroy();
		console.log(JSON.stringify({ held: opt.hold, answered,
		    statuses, failed }));
		process.exit(0);
	};
	process.on('SIGTERM', stop);
	process.on('SIGINT', stop);
	// Stay up until told, even with nothing left open.
	setInterval(() => {}, 1000);
}

if (opt.hold > 0)
	hold();
else
	load().catch((e) => { console.error(e); process.exit(1); });
