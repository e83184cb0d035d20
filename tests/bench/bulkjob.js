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
 * Prints one JSON line: {"mode","elapsed_s","calls","failed","retries"}.
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
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
const stats = { calls: 0, failed: 0, retries: 0, statuses: {} };

function once(method, path, headers, body) {
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
	const id = `bulk-client-${i}`;
	const basic = Buffer.from(`${id}:secret-${i}`).toString('base64');
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
	const t0 = process.hrtime.bigint();
	await Promise.all(Array.from({ length: ntenants }, (_, i) => tenant(i)));
	const elapsed = Number(process.hrtime.bigint() - t0) / 1e9;
	console.log(JSON.stringify({ mode, elapsed_s: +elapsed.toFixed(2),
	    calls: stats.calls, failed: stats.failed, retries: stats.retries,
	    statuses: stats.statuses }));
	agent.destroy();
})();
