#!/usr/bin/env node
// mixup.js - an upstream that answers at random, for weir's stress tests.
//
//   node mixup.js [--p429 F] [--p503 F] [--pslow F] [--slow-min-ms N]
//                 [--slow-max-ms N]
//
// Listens on 127.0.0.1 port 0 and prints "port NNNNN" on stdout.  Each
// request, after its body has arrived, gets one of:
//   429 with Retry-After: 1 and a Genesys-shaped body    (--p429, 0.10)
//   503 with a JSON body                                  (--p503, 0.05)
//   200 after 1-3 s                                       (--pslow, 0.05)
//   200 at once, a small JSON echo                        (the rest)
// GET /__mixup/stats answers the counts as JSON (never random, never
// counted).  Stops on SIGTERM or SIGINT, or when its parent goes away,
// and prints the counts on stderr.
'use strict';
const http = require('http');

const opt = { p429: 0.10, p503: 0.05, pslow: 0.05, slowMinMs: 1000,
	slowMaxMs: 3000 };
for (let i = 2; i < process.argv.length; i += 2) {
	const k = process.argv[i].replace(/^--/, '')
		.replace(/-([a-z])/g, (m, c) => c.toUpperCase());
	if (!(k in opt)) {
		console.error(`mixup.js: unknown option ${process.argv[i]}`);
		process.exit(2);
	}
	opt[k] = Number(process.argv[i + 1]);
}

const counts = { requests: 0, s200: 0, s429: 0, s503: 0, slow: 0,
	aborted: 0 };
const body429 = JSON.stringify({
	message: 'Rate limit exceeded the maximum. Retry the request in [1] ' +
	    'seconds',
	code: 'too.many.requests.retry.after', status: 429,
	contextId: 'mixup', details: [], errors: [],
});

const server = http.createServer((req, res) => {
	if (req.url === '/__mixup/stats') {
		res.setHeader('Content-Type', 'application/json');
		res.end(JSON.stringify(counts));
		return;
	}
	let len = 0;
	req.on('data', (d) => { len += d.length; });
	req.on('end', () => {
		counts.requests++;
		const r = Math.random();
		res.setHeader('Content-Type', 'application/json');
		if (r < opt.p429) {
			counts.s429++;
			res.statusCode = 429;
			res.setHeader('Retry-After', '1');
			res.end(body429);
		} else if (r < opt.p429 + opt.p503) {
			counts.s503++;
			res.statusCode = 503;
			res.end('{"message":"try later","status":503}');
		} else {
			const slow = r < opt.p429 + opt.p503 + opt.pslow;
			const answer = () => {
				counts.s200++;
				res.statusCode = 200;
				res.end(JSON.stringify({ method: req.method,
				    url: req.url, body_len: len, slow }));
			};
			if (slow) {
				counts.slow++;
				const t = setTimeout(answer, opt.slowMinMs +
				    Math.random() * (opt.slowMaxMs - opt.slowMinMs));
				res.on('close', () => {
					if (!res.writableFinished) {
						counts.aborted++;
						clearTimeout(t);
					}
				});
			} else
				answer();
		}
	});
});
server.keepAliveTimeout = 30000;
server.headersTimeout = 35000;
server.maxHeadersCount = 0;

function stop() {
	console.error('mixup: ' + JSON.stringify(counts));
	process.exit(0);
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
// Never outlive the script that started us.
const ppid = process.ppid;
setInterval(() => { if (process.ppid !== ppid) stop(); }, 500).unref();

server.listen(0, '127.0.0.1', () => {
	console.log(`port ${server.address().port}`);
});
