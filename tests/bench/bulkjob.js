#!/usr/bin/env node
/*
 * bulkjob.js - the seed's bulk job, for tests/bench/bulk.sh: for each
 * tenant, log in, page through every Architect flow, then PUT each flow,
 * with a fixed number of calls in flight per tenant.
 *
 *   node bulkjob.js --base http://127.0.0.1:PORT --tenants 3 \
 *        --concurrency 10 --mode noretry|naive
 *
 * noretry: the app never retries (like the Node.js SDK); any non-2xx
 *          answer is a failure the app saw.
 * naive:   "on 429 sleep Retry-After and retry" (the loop apps write by
 *          hand); other failures count.
 * --client ID: every tenant of this process logs in as client ID (secret
 *          "secret-ID") instead of bulk-client-<i>: several processes
 *          with --tenants 1 --client ID are replicas of one app, sharing
 *          one client's rate limit (tests/bench/replicas.sh).
 * --tag NAME: send "X-Bench-Tag: NAME" with every call (fakeup --log
 *          prints it: which replica sent what).
 * --start-at MS: wait until the wall clock (Date.now()) reaches MS before
 *          starting, so that processes started one after the other begin
 *          together; elapsed_s then counts from MS, and late_ms says
 *          how late the process was ready (0: it waited).
 * Prints one JSON line: {"mode","elapsed_s","calls","failed","retries",
 * "statuses","start_ms","end_ms","late_ms"} (start_ms and end_ms: wall
 * clock).
 */
'use strict';
const http = require('http');

function arg(name, dflt) {
	const i = process.argv.indexOf('--' + name);
	return i > 0 ? process.argv[i + 1] : dflt;
}

const base = new URL(arg('base'));
const ntenants = Number(arg('tenants', '3'));
const concurrency = Number(arg('concurrency', '10'));
const mode = arg('mode', 'noretry');
const pageSize = Number(arg('page-size', '25'));
const client = arg('client', '');
const startAt = Number(arg('start-at', '0'));
const tag = arg('tag', '');
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
const stats = { calls: 0, failed: 0, retries: 0, statuses: {} };

function once(method, path, headers, body) {
	if (tag !== '')
		headers = { ...headers, 'X-Bench-Tag': tag };
	return new Promise((resolve, reject) => {
		const req = http.request({
			host: base.hostname, port: base.port, method, path,
			headers, agent, timeout: 60000,
		}, (res) => {
			const chunks = [];
			res.on('data', (c) => chunks.push(c));
			res.on('end', () => resolve({
				status: res.statusCode,
				headers: res.headers,
				body: Buffer.concat(chunks).toString('utf8'),
			}));
		});
		req.on('error', reject);
		req.on('timeout', () => req.destroy(new Error('timeout')));
		if (body !== undefined)
			req.write(body);
		req.end();
	});
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function call(method, path, headers, body) {
	for (;;) {
		stats.calls++;
		let res;
		try {
			res = await once(method, path, headers, body);
		} catch (e) {
			stats.failed++;
			return null;
		}
		stats.statuses[res.status] = (stats.statuses[res.status] || 0) + 1;
		if (res.status === 429 && mode === 'naive') {
			const ra = Number(res.headers['retry-after'] || '1');
			stats.retries++;
			await sleep((Number.isFinite(ra) ? ra : 1) * 1000);
			continue;
		}
		if (res.status < 200 || res.status > 299) {
			stats.failed++;
			return null;
		}
		return res;
	}
}

/* Run jobs (functions returning promises) with n in flight. */
async function pool(jobs, n) {
	let next = 0;
	async function worker() {
		while (next < jobs.length)
			await jobs[next++]();
	}
	await Promise.all(Array.from({ length: n }, worker));
}

async function tenant(i) {
	const id = client !== '' ? client : `bulk-client-${i}`;
	const secret = client !== '' ? `secret-${client}` : `secret-${i}`;
	const basic = Buffer.from(`${id}:${secret}`).toString('base64');
	const login = await call('POST', '/oauth/token', {
		'Authorization': `Basic ${basic}`,
		'Content-Type': 'application/x-www-form-urlencoded',
	}, 'grant_type=client_credentials');
	if (login === null)
		return;
	const token = JSON.parse(login.body).access_token;
	const auth = { 'Authorization': `Bearer ${token}` };

	const first = await call('GET',
	    `/api/v2/flows?pageSize=${pageSize}&pageNumber=1`, auth);
	if (first === null)
		return;
	const p1 = JSON.parse(first.body);
	const flows = p1.entities.slice();
	const pages = [];
	for (let p = 2; p <= p1.pageCount; p++)
		pages.push(async () => {
			const r = await call('GET',
			    `/api/v2/flows?pageSize=${pageSize}&pageNumber=${p}`,
			    auth);
			if (r !== null)
				flows.push(...JSON.parse(r.body).entities);
		});
	await pool(pages, concurrency);

	const puts = flows.map((f) => async () => {
		const body = JSON.stringify({ ...f, description: 'bulk update' });
		await call('PUT', `/api/v2/flows/${f.id}`, {
			...auth, 'Content-Type': 'application/json',
			'Content-Length': Buffer.byteLength(body),
		}, body);
	});
	await pool(puts, concurrency);
}

(async () => {
	const late = startAt > 0 ? Math.max(0, Date.now() - startAt) : 0;
	if (startAt > Date.now())
		await sleep(startAt - Date.now());
	const start = startAt > 0 ? startAt : Date.now();
	const t0 = process.hrtime.bigint() -
	    BigInt(Math.max(0, Date.now() - start)) * 1000000n;
	await Promise.all(Array.from({ length: ntenants }, (_, i) => tenant(i)));
	const elapsed = Number(process.hrtime.bigint() - t0) / 1e9;
	console.log(JSON.stringify({ mode, elapsed_s: +elapsed.toFixed(2),
	    calls: stats.calls, failed: stats.failed, retries: stats.retries,
	    statuses: stats.statuses, start_ms: start, end_ms: Date.now(),
	    late_ms: late }));
	agent.destroy();
})();
