'use strict';
/*
 * sdk_test.js - drive weir with the real Genesys Cloud Node.js SDK
 * (purecloud-platform-client-v2) and check both ends: what the SDK got
 * back, and what the fake upstreams received.
 *
 * Started by tests/node/sdk.sh, which starts two fake upstreams (one for
 * login, one for the API) and two weir instances in front of them:
 *
 *   WEIR_PREFIX_PORT  weir with api_prefix=/api, login_prefix=/login; the SDK
 *                     uses setGateway path_params_api 'api', path_params_login
 *                     'login', so weir sees /login/oauth/token and
 *                     /api/api/v2/flows
 *   WEIR_ROOT_PORT    weir without prefixes; the SDK uses empty path params,
 *                     so weir sees /oauth/token and /api/v2/flows
 *   FAKE_API_PORT, FAKE_LOGIN_PORT   the two fakeup instances
 *
 *   WEIR_ABSORB_PORT  (optional) weir without prefixes in front of
 *                     FAKE_LIMITED_PORT, a fake that answers 429 past a few
 *                     calls a second, with weir's own rate set higher than
 *                     that, so weir meets 429s and must absorb them
 *
 *   WEIR_PRIO_PORT    (optional) weir without prefixes in front of the API
 *                     fake, paced at 10/s with a burst of 1: one ApiClient
 *                     floods it with normal calls while a second one, whose
 *                     default headers carry X-Weir-Priority: high, clicks
 *
 * Every weir instance runs with add_header "X-Genesys-Client: sdk-test".
 *
 * Prints TAP result lines ("ok N - ...") on stdout but no plan: sdk.sh adds
 * its own results after these and prints the plan.  Exits 0 when it ran to
 * the end (failures are "not ok" lines), non-zero if it crashed.
 *
 * What the SDK does that matters here (read from its source, v262):
 * - ApiClient.setGateway -> Configuration.setGateway/getConfUrl: the base
 *   URL is protocol://host[:port] plus '/' + path_params_* when that is a
 *   non-empty string; an empty or undefined path param adds nothing.  The
 *   request path (/oauth/token, /api/v2/...) is appended unchanged.
 * - The SDK never retries a 429 or 5xx: callApi() rejects on any error
 *   status, and its only re-send is a token refresh on 401, which needs a
 *   refresh token (client credentials have none).  setReturnExtendedResponses
 *   stays at its default (off): calls resolve with the parsed body.
 * - HTTP goes through axios with a 16000 ms timeout per call.
 */

const platformClient = require('purecloud-platform-client-v2');

// Keep stdout for TAP only: anything else that prints goes to stderr.
console.log = console.error;
console.info = console.error;

const CLIENT_ID = 'sdk-test-client';
const CLIENT_SECRET = 'sdk-test-secret';
const ADD_HEADER = ['x-genesys-client', 'sdk-test'];
const PAGE_SIZE = 25;
const PUT_COUNT = 3;
const UUID4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

function envPort(name) {
	const v = Number(process.env[name]);
	if (!Number.isInteger(v) || v <= 0 || v > 65535) {
		console.error(`sdk_test.js: ${name} is not a port: ${process.env[name]}`);
		process.exit(2);
	}
	return v;
}

const fakeApi = `http://127.0.0.1:${envPort('FAKE_API_PORT')}`;
const fakeLogin = `http://127.0.0.1:${envPort('FAKE_LOGIN_PORT')}`;
const modes = [
	{ name: 'with prefixes', port: envPort('WEIR_PREFIX_PORT'),
	  login: 'login', api: 'api', fakeApi, fakeLogin },
	{ name: 'without prefixes', port: envPort('WEIR_ROOT_PORT'),
	  login: '', api: '', fakeApi, fakeLogin },
];
if (process.env.WEIR_ABSORB_PORT) {
	/* One fake for login and API that answers 429 past its limit. */
	const limited = `http://127.0.0.1:${envPort('FAKE_LIMITED_PORT')}`;
	modes.push({ name: '429s absorbed', port: envPort('WEIR_ABSORB_PORT'),
	    login: '', api: '', fakeApi: limited, fakeLogin: limited,
	    limited: true });
}

/* ---- TAP ---- */

let testNo = 0;
let failed = 0;

function diag(text) {
	for (const line of String(text).split('\n'))
		process.stdout.write(`# ${line}\n`);
}

function ok(cond, name, detail) {
	testNo++;
	if (cond) {
		process.stdout.write(`ok ${testNo} - ${name}\n`);
	} else {
		failed++;
		process.stdout.write(`not ok ${testNo} - ${name}\n`);
		if (detail !== undefined)
			diag(typeof detail === 'string' ? detail
			    : JSON.stringify(detail).slice(0, 3000));
	}
	return cond;
}

function errText(e) {
	if (e instanceof Error)
		return e.stack || e.message;
	return JSON.stringify(e);	/* the SDK rejects with the error body */
}

/* ---- the fakes' control endpoints, called directly (not through weir) ---- */

async function fakeCall(base, method, path) {
	const ctl = new AbortController();
	const timer = setTimeout(() => ctl.abort(), 5000);
	try {
		const res = await fetch(base + path, { method, signal: ctl.signal });
		const text = await res.text();
		if (!res.ok)
			throw new Error(`${method} ${base}${path}: ${res.status} ${text}`);
		return text ? JSON.parse(text) : null;
	} finally {
		clearTimeout(timer);
	}
}

/* Requests an upstream received, without the control calls. */
async function received(base) {
	const all = await fakeCall(base, 'GET', '/__fake/requests');
	return all.filter((r) => !r.target.startsWith('/__fake'));
}

function header(req, name) {
	const want = name.toLowerCase();
	const vals = req.headers.filter((h) => h[0].toLowerCase() === want)
	    .map((h) => h[1]);
	return vals.length === 0 ? undefined : vals.join(', ');
}

function pathOf(target) {
	const q = target.indexOf('?');
	return q === -1 ? target : target.slice(0, q);
}

function queryOf(target) {
	const q = target.indexOf('?');
	return new URLSearchParams(q === -1 ? '' : target.slice(q + 1));
}

function sameJson(a, b) {
	return JSON.stringify(canon(a)) === JSON.stringify(canon(b));
}

function canon(v) {
	if (Array.isArray(v))
		return v.map(canon);
	if (v && typeof v === 'object') {
		const o = {};
		for (const k of Object.keys(v).sort())
			o[k] = canon(v[k]);
		return o;
	}
	return v;
}

/* The first few requests failing good(), with the named header's value. */
function offenders(reqs, good, name) {
	const bad = reqs.filter((r) => !good(r));
	return `${bad.length} of ${reqs.length} requests, e.g.:\n`
	    + bad.slice(0, 5).map((r) => `${r.method} ${r.target}: ${name}: ${header(r, name)}`)
	    .join('\n');
}

function describe(reqs) {
	return reqs.map((r) => `${r.method} ${r.target}`).join('\n');
}

/* ---- one run of the bulk job through one weir ---- */

/*
 * What came back to the client, per call, seen through axios.  The hook is
 * set once: setPostHook() a second time would stack a second interceptor
 * (enableHooks() ejects the old one from the global axios, not from the
 * SDK's own axios instance).
 */
const answers = [];
let hooked = false;

function hookAnswers(client) {
	if (hooked)
		return;
	hooked = true;
	client.getHttpClient().setPostHook((response) => {
		answers.push({
			url: response.config.url,
			status: response.status,
			rid: response.headers['x-request-id'],
			prio: response.headers['x-weir-priority'],
		});
		return response;
	});
}

/*
 * The bulk job through one weir: log in, page through every flow, one list
 * call with the client's own X-Request-Id, then checkout/put/checkin for a
 * few flows.  Records a TAP result for each step; returns what the checks
 * of the upstream side need, or null if it could not go on.
 */
async function job(mode) {
	const t = (name) => `${mode.name}: ${name}`;
	const client = platformClient.ApiClient.instance;
	const architect = new platformClient.ArchitectApi();

	await fakeCall(mode.fakeApi, 'POST', '/__fake/reset');
	if (mode.fakeLogin !== mode.fakeApi)
		await fakeCall(mode.fakeLogin, 'POST', '/__fake/reset');

	hookAnswers(client);
	client.setGateway({
		host: '127.0.0.1',
		port: mode.port,
		protocol: 'http',
		path_params_login: mode.login,
		path_params_api: mode.api,
	});

	answers.length = 0;

	/* 1. login: client credentials */
	let auth;
	try {
		auth = await client.loginClientCredentialsGrant(CLIENT_ID, CLIENT_SECRET);
	} catch (e) {
		ok(false, t('loginClientCredentialsGrant resolves'), errText(e));
		return null;
	}
	const token = auth.accessToken;
	ok(new RegExp(`^tok-${CLIENT_ID}-\\d+$`).test(token || ''),
	    t('login returns the token the login upstream issued'), auth);

	/* 2. page through every flow */
	const flows = [];
	const pages = [];
	let pageCount = 1;
	let listError;
	for (let n = 1; n <= pageCount && n <= 100; n++) {
		try {
			const page = await architect.getFlows({
			    pageSize: PAGE_SIZE, pageNumber: n });
			pages.push(page);
			flows.push(...page.entities);
			pageCount = page.pageCount;
		} catch (e) {
			listError = errText(e);
			break;
		}
	}
	ok(listError === undefined, t('getFlows succeeds on every page'), listError);
	const first = pages[0] || {};
	const ids = new Set(flows.map((f) => f.id));
	ok(pages.length > 1 && pages.length === first.pageCount,
	    t(`paged through all pages (${pages.length} of ${first.pageCount})`),
	    { pageCount: first.pageCount, got: pages.length });
	ok(flows.length === first.total && ids.size === flows.length,
	    t(`got every flow exactly once (${ids.size} of ${first.total})`));
	ok(pages.every((p, i) => p.pageNumber === i + 1 && p.pageSize === PAGE_SIZE),
	    t('each page has the pageNumber and pageSize asked for'),
	    pages.map((p) => [p.pageNumber, p.pageSize]));

	/* 3. a call with the client's own request id */
	const myRid = `sdk-test-${mode.login ? 'prefix' : 'root'}-rid`;
	try {
		const p = await architect.getFlows({ pageSize: 5, pageNumber: 2,
		    customHeaders: { 'X-Request-Id': myRid } });
		ok(Array.isArray(p.entities) && p.entities.length === 5,
		    t('getFlows with a client X-Request-Id succeeds'), p);
	} catch (e) {
		ok(false, t('getFlows with a client X-Request-Id succeeds'), errText(e));
	}

	/* 4. the bulk update: checkout, put, checkin for a few flows */
	const sent = [];
	let putError;
	for (const f of flows.slice(0, PUT_COUNT)) {
		const body = Object.assign({}, f, {
			description: `updated through weir (${mode.name}) \u00e9\u00e8 "quoted"`,
		});
		try {
			await architect.postFlowsActionsCheckout(f.id);
			const back = await architect.putFlow(f.id, body);
			await architect.postFlowsActionsCheckin(f.id);
			sent.push({ id: f.id, body, back });
		} catch (e) {
			putError = errText(e);
			break;
		}
	}
	ok(putError === undefined && sent.length === PUT_COUNT,
	    t(`checkout/putFlow/checkin succeed for ${PUT_COUNT} flows`), putError);
	ok(sent.length > 0 && sent.every((s) => sameJson(s.back, s.body)),
	    t('putFlow answers carry the body sent (the fake echoes it)'),
	    sent.map((s) => s.back));
	return { token, pages, flows, sent, myRid };
}

/* What the two upstreams received, when every call went through once. */
async function checkForwarding(mode, r) {
	const t = (name) => `${mode.name}: ${name}`;
	const { token, pages, sent, myRid } = r;
	let login, api;
	try {
		login = await received(mode.fakeLogin);
		api = await received(mode.fakeApi);
	} catch (e) {
		ok(false, t('read the fakes\' request records'), errText(e));
		return;
	}

	const basic = 'Basic ' + Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`)
	    .toString('base64');
	ok(login.length === 1 && login[0].method === 'POST'
	    && login[0].target === '/oauth/token',
	    t('login upstream got exactly POST /oauth/token (prefix stripped)'),
	    describe(login));
	const tok = login[0] || { headers: [] };
	ok(header(tok, 'authorization') === basic,
	    t('token request carried the client\'s Basic credentials'),
	    header(tok, 'authorization'));
	ok(tok.body === 'grant_type=client_credentials'
	    && /^application\/x-www-form-urlencoded/.test(
	       header(tok, 'content-type') || ''),
	    t('token request carried the form body grant_type=client_credentials'),
	    { body: tok.body, type: header(tok, 'content-type') });

	const lists = api.filter((r) => r.method === 'GET');
	const puts = api.filter((r) => r.method === 'PUT');
	const actions = api.filter((r) => r.method === 'POST');
	const expected = 1 + pages.length + 1 + 3 * sent.length;
	ok(login.length + api.length === expected
	    && !api.some((r) => r.target.startsWith('/oauth')),
	    t(`upstreams got each call once, /oauth only at login (${login.length + api.length} of ${expected})`),
	    'login:\n' + describe(login) + '\napi:\n' + describe(api));
	ok(lists.length === pages.length + 1 && lists.every((r) => {
		const q = queryOf(r.target);
		return pathOf(r.target) === '/api/v2/flows'
		    && q.has('pageNumber') && q.has('pageSize');
	}), t('list calls arrived as /api/v2/flows?pageNumber&pageSize (prefix stripped)'),
	    describe(lists));
	ok(pages.length > 0 && pages.every((p, i) => {
		const q = queryOf(lists[i] ? lists[i].target : '');
		return q.get('pageNumber') === String(i + 1)
		    && q.get('pageSize') === String(PAGE_SIZE);
	}), t('list calls arrived in order with the SDK\'s query parameters'),
	    describe(lists));

	ok(puts.length === sent.length && puts.every((r, i) =>
	    r.target === `/api/v2/flows/${encodeURIComponent(sent[i].id)}`),
	    t('PUTs arrived at /api/v2/flows/{id}'), describe(puts));
	let bodyOk = puts.length === sent.length;
	const bodyDiag = [];
	puts.forEach((r, i) => {
		let parsed;
		try { parsed = JSON.parse(r.body); } catch (e) { parsed = undefined; }
		const good = parsed !== undefined && sent[i] && sameJson(parsed, sent[i].body)
		    && r.body_len === Buffer.byteLength(r.body)
		    && /^application\/json/.test(header(r, 'content-type') || '');
		if (!good) {
			bodyOk = false;
			bodyDiag.push({ target: r.target, body_len: r.body_len,
			    body: r.body, sent: sent[i] && sent[i].body });
		}
	});
	ok(bodyOk, t('PUT bodies arrived byte for byte as JSON the SDK sent'), bodyDiag);
	ok(actions.length === 2 * sent.length && actions.every((r, i) => {
		const f = sent[Math.floor(i / 2)];
		const want = i % 2 === 0 ? 'checkout' : 'checkin';
		return f && pathOf(r.target) === `/api/v2/flows/actions/${want}`
		    && queryOf(r.target).get('flow') === f.id;
	}), t('checkout/checkin arrived with ?flow={id}'), describe(actions));

	ok(api.length > 0 && api.every((r) => header(r, 'authorization') === `Bearer ${token}`),
	    t('every API call carried the bearer token from login'),
	    offenders(api, (r) => header(r, 'authorization') === `Bearer ${token}`,
	    'authorization'));

	const all = login.concat(api);
	ok(all.every((r) => header(r, ADD_HEADER[0]) === ADD_HEADER[1]),
	    t('every upstream call carried the add_header header'),
	    offenders(all, (r) => header(r, ADD_HEADER[0]) === ADD_HEADER[1],
	    ADD_HEADER[0]));

	const rids = all.map((r) => header(r, 'x-request-id'));
	const mine = all.filter((r) => header(r, 'x-request-id') === myRid);
	const generated = rids.filter((v) => v !== myRid);
	ok(rids.every((v) => typeof v === 'string' && v.length > 0),
	    t('every upstream call carried an X-Request-Id'), rids);
	ok(mine.length === 1 && pathOf(mine[0].target) === '/api/v2/flows'
	    && queryOf(mine[0].target).get('pageSize') === '5',
	    t('the client\'s own X-Request-Id was forwarded unchanged'), rids);
	ok(generated.every((v) => UUID4.test(v))
	    && new Set(generated).size === generated.length,
	    t('generated request ids are distinct UUIDv4s'), generated);

	const echoed = answers.map((a) => a.rid);
	ok(answers.length === all.length
	    && canon(echoed.slice().sort()).join() === canon(rids.slice().sort()).join(),
	    t('every answer echoed the request id sent upstream'),
	    { answers, upstream: rids });
	ok(answers.some((a) => a.rid === myRid),
	    t('the client\'s own X-Request-Id was echoed back'), answers);

	/* Nothing was retried: every call once, and no 429s were involved. */
	const stats = await fakeCall(mode.fakeApi, 'GET', '/__fake/stats');
	ok(stats && stats['429'] === 0,
	    t('the API upstream answered no 429s'), stats);
}

/*
 * What the rate-limited upstream received: every call got through in the
 * end, some only after weir waited out a 429 and sent it again.
 */
async function checkAbsorbed(mode, r) {
	const t = (name) => `${mode.name}: ${name}`;
	const { token, pages, sent, myRid } = r;
	let all, stats;
	try {
		all = await received(mode.fakeApi);
		stats = await fakeCall(mode.fakeApi, 'GET', '/__fake/stats');
	} catch (e) {
		ok(false, t('read the fake\'s request records'), errText(e));
		return;
	}
	ok(stats['429'] > 0,
	    t(`the upstream answered 429s (${stats['429']}) and none reached the SDK`),
	    stats);
	const expected = 1 + pages.length + 1 + 3 * sent.length;
	ok(all.length === expected + stats['429'],
	    t(`upstream got every call, plus one resend per 429 (${all.length} = ${expected} + ${stats['429']})`),
	    describe(all));
	const tokens = all.filter((q) => pathOf(q.target) === '/oauth/token');
	ok(tokens.length >= 1 && tokens.every((q) => q.body === 'grant_type=client_credentials'),
	    t('token requests (resends included) kept their form body'),
	    tokens.map((q) => q.body));
	const puts = all.filter((q) => q.method === 'PUT');
	ok(puts.length >= sent.length && puts.every((q) => {
		const f = sent.find((x) => q.target === `/api/v2/flows/${x.id}`);
		let parsed;
		try { parsed = JSON.parse(q.body); } catch (e) { return false; }
		return f !== undefined && sameJson(parsed, f.body);
	}), t('every PUT, resends included, carried the body the SDK sent'),
	    describe(puts));
	const api = all.filter((q) => !q.target.startsWith('/oauth'));
	ok(api.every((q) => header(q, 'authorization') === `Bearer ${token}`),
	    t('every API call, resends included, carried the bearer token'),
	    offenders(api, (q) => header(q, 'authorization') === `Bearer ${token}`,
	    'authorization'));
	const mine = all.filter((q) => queryOf(q.target).get('pageSize') === '5');
	ok(mine.length >= 1 && mine.every((q) => header(q, 'x-request-id') === myRid),
	    t('the client\'s X-Request-Id stayed the same on every resend'),
	    mine.map((q) => header(q, 'x-request-id')));
	ok(answers.every((a) => a.status !== 429) && answers.some((a) => a.rid === myRid),
	    t('the SDK saw no 429, and its own request id came back'), answers);
}

/* ---- priority: one client's calls go ahead of another's flood ---- */

const FLOOD = 30;
const CLICKS = 3;

function sleep(ms) {
	return new Promise((resolve) => setTimeout(resolve, ms));
}

/*
 * Two ApiClient instances log in as the same OAuth client (one tenant to
 * weir): the app's sync job, and its screens.  The screens' client sets
 * X-Weir-Priority: high in its default headers once.  The job queues
 * FLOOD list calls at 10/s; then the screens make CLICKS calls one after
 * the other.  Each click must be answered within a slot or so, long
 * before the flood is through, and the flood must finish.
 */
async function priorityRun(port) {
	const t = (name) => `priority: ${name}`;
	const gw = { host: '127.0.0.1', port, protocol: 'http',
	    path_params_login: '', path_params_api: '' };
	await fakeCall(fakeApi, 'POST', '/__fake/reset');
	await fakeCall(fakeLogin, 'POST', '/__fake/reset');

	const bulk = platformClient.ApiClient.instance;
	hookAnswers(bulk);
	bulk.setGateway(gw);
	const screens = new platformClient.ApiClientClass();
	ok(screens !== bulk, t('a second ApiClient instance'));
	screens.setGateway(gw);
	screens.setDefaultHeaders({ 'X-Weir-Priority': 'high' });
	const clickAnswers = [];
	screens.getHttpClient().setPostHook((response) => {
		clickAnswers.push({
			prio: response.headers['x-weir-priority'],
			queuedMs: Number(response.headers['x-weir-queued-ms']),
		});
		return response;
	});
	await bulk.loginClientCredentialsGrant(CLIENT_ID, CLIENT_SECRET);
	await screens.loginClientCredentialsGrant(CLIENT_ID, CLIENT_SECRET);
	clickAnswers.length = 0;	/* the login is not a click */
	const bulkApi = new platformClient.ArchitectApi(bulk);
	const screensApi = new platformClient.ArchitectApi(screens);

	answers.length = 0;
	const done = [];
	const flood = [];
	for (let i = 0; i < FLOOD; i++)
		flood.push(bulkApi.getFlows({ pageSize: 1, pageNumber: i + 1 })
		    .then(() => done.push(`bulk ${i}`)));
	/* the flood is under way upstream: the rest of it waits in weir */
	for (let i = 0; i < 200; i++) {
		if ((await received(fakeApi)).length >= 2)
			break;
		await sleep(20);
	}
	let clickError;
	for (let i = 0; i < CLICKS; i++) {
		try {
			await screensApi.getFlows({ pageSize: 2, pageNumber: i + 1 });
			done.push(`click ${i}`);
		} catch (e) {
			clickError = errText(e);
		}
	}
	let floodError;
	try {
		await Promise.all(flood);
	} catch (e) {
		floodError = errText(e);
	}
	ok(clickError === undefined && floodError === undefined,
	    t(`${CLICKS} clicks and ${FLOOD} bulk calls all succeed`),
	    { clickError, floodError });
	const lastClick = done.indexOf(`click ${CLICKS - 1}`);
	ok(lastClick >= 0 && lastClick < CLICKS + 8,
	    t(`the clicks were answered before most of the flood (last click ${lastClick + 1}th of ${done.length})`),
	    done);
	ok(clickAnswers.length === CLICKS
	    && clickAnswers.every((a) => a.prio === 'high'
	    && Number.isFinite(a.queuedMs)),
	    t('every click was answered as high (its place in line is checked above, by order)'),
	    clickAnswers);
	ok(answers.length === FLOOD && answers.every((a) => a.prio === 'normal'),
	    t('every bulk call was answered as normal'), answers);

	let api = [];
	try {
		api = await received(fakeApi);
	} catch (e) {
		ok(false, t('read the fake\'s request records'), errText(e));
		return;
	}
	const clicks = api.map((r, i) => [r, i])
	    .filter(([r]) => queryOf(r.target).get('pageSize') === '2');
	ok(api.length === FLOOD + CLICKS && clicks.length === CLICKS,
	    t(`the upstream got every call once (${api.length})`), describe(api));
	ok(clicks.length > 0 && clicks[clicks.length - 1][1] < CLICKS + 8,
	    t('the clicks reached the upstream ahead of most of the flood'),
	    describe(api));
	ok(api.every((r) => header(r, 'x-weir-priority') === undefined),
	    t('X-Weir-Priority was not forwarded upstream'),
	    offenders(api, (r) => header(r, 'x-weir-priority') === undefined,
	    'x-weir-priority'));
}

async function main() {
	for (const mode of modes) {
		try {
			const r = await job(mode);
			if (r === null)
				continue;
			if (mode.limited)
				await checkAbsorbed(mode, r);
			else
				await checkForwarding(mode, r);
		} catch (e) {
			ok(false, `${mode.name}: ran to the end`, errText(e));
		}
	}
	if (process.env.WEIR_PRIO_PORT) {
		try {
			await priorityRun(envPort('WEIR_PRIO_PORT'));
		} catch (e) {
			ok(false, 'priority: ran to the end', errText(e));
		}
	}
	diag(`sdk_test.js: ${testNo - failed} of ${testNo} passed`);
}

main().then(() => process.exit(0), (e) => {
	console.error(e);
	process.exit(1);
});
