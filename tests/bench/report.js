/*
 * report.js - the one table of `make bench`, from build/bench/raw.txt.
 *   node report.js RAW RESULTS_MD
 * RAW holds "key value" lines written by run.sh. A missing figure is
 * "n/a (not built)" when run.sh recorded its component as not built on this
 * tree (built.X 0), "n/a (not run)" when its step was left out (built.X
 * skip: BENCH_ONLY, or a connection count BENCH_CONNS did not ask for), else
 * "n/a (failed: see build/bench/log)": a step that ran and gave nothing. The
 * table never shows a number that was not measured in this run.
 */
'use strict';
const fs = require('fs');
const os = require('os');

const [rawPath, mdPath] = process.argv.slice(2);
const raw = new Map();
for (const line of fs.readFileSync(rawPath, 'utf8').split('\n')) {
  const sp = line.indexOf(' ');
  if (sp > 0) raw.set(line.slice(0, sp), line.slice(sp + 1).trim());
}

function num(key) {
  const v = raw.get(key);
  if (v === undefined || v === '' || v === 'na') return null;
  const n = Number(v);
  return Number.isFinite(n) ? n : null;
}
function fmt(n, digits = 0) {
  if (n === null) return null;
  return n.toLocaleString('en-US', {
    minimumFractionDigits: digits, maximumFractionDigits: digits });
}
function na(component) {
  /* the last word wins: a step skipped after "not built" was not run */
  const b = raw.get(`built.${component}`);
  if (b === 'skip') return 'n/a (not run)';
  if (b === '0') return 'n/a (not built)';
  return 'n/a (failed: see build/bench/log)';
}
/* pgbench at `c` connections: run at each BENCH_CONNS count only */
function pgbenchNa(c) {
  if (raw.get('built.pgbench') !== 'skip' && !conns.includes(c)) {
    return `n/a (not run at ${c} conn)`;
  }
  return na('pgbench');
}
function peerNa() {
  const p = raw.get('peers.npm');
  if (p === 'skip') return 'n/a (not run)';
  return p === '1' ? 'n/a (failed: see build/bench/log)'
    : 'n/a (npm peers not installed)';
}
function ratio(a, b) {
  if (a === null || b === null || b === 0) return '';
  const r = a / b;
  return `${r >= 10 ? fmt(r, 0) : fmt(r, 2)}x`;
}
function met(ok) {
  if (ok === null) return '';
  return ok ? 'yes' : '**no**';
}

const rows = [];
function row(what, hub, peer, rat, target, ok) {
  rows.push([what, hub, peer, rat, target || '', met(ok)]);
}

const conns = (raw.get('config.conns') || '1 8 32').split(/\s+/).filter(Boolean);
const peersMllp = [['simple-hl7', 'simple-hl7'], ['medplum', '@medplum/hl7']];
const peersParse = ['simple-hl7', '@medplum/hl7', 'hl7parser'];

/* --- parse + normalize ------------------------------------------------- */
const hubParseErr = num('parse.hub.hl7.errors');
let bestParse = null, bestParseName = '';
for (const p of peersParse) {
  const v = num(`parse.peer.${p}`);
  if (v !== null && (bestParse === null || v > bestParse)) {
    bestParse = v; bestParseName = p;
  }
}
/* A rate over a corpus that fails wholly is no rate. */
function parseCell(key, unit) {
  const v = num(`parse.hub.${key}`);
  const err = num(`parse.hub.${key}.errors`);
  if (v === null) return [null, na(key)];
  if (v === 0 && err) {
    return [null, `n/a (all ${fmt(err)} refused: see build/bench/log/parse_${key}.txt)`];
  }
  let cell = `${fmt(v)} ${unit}`;
  const mbs = num(`parse.hub.${key}.mbs`);
  if (mbs !== null) cell += ` (${fmt(mbs, 1)} MB/s)`;
  if (err) cell += `, ${fmt(err)} refused`;
  return [v, cell];
}
{
  const [hubParseV, hub] = parseCell('hl7', 'msg/s');
  row('HL7 v2 ADT parse + normalize, 1 core', hub,
    bestParse === null ? peerNa() : `${bestParseName} ${fmt(bestParse)} msg/s`,
    ratio(hubParseV, bestParse), '>= 20x fastest npm parser',
    hubParseV === null || bestParse === null ? null
      : hubParseV >= 20 * bestParse && !hubParseErr);
  const [onlyV, only] = parseCell('hl7parse', 'msg/s');
  row('  HL7 v2 parse alone (no normalize), 1 core', only,
    bestParse === null ? '' : `${bestParseName} ${fmt(bestParse)} msg/s`,
    ratio(onlyV, bestParse), '', null);
  for (const p of peersParse) {
    const v = num(`parse.peer.${p}`);
    row(`  beside ${p} (parse + field reads)`, '', v === null ? peerNa()
      : `${fmt(v)} msg/s`, ratio(hubParseV, v), '', null);
  }
}

/* --- MLLP: hubd, npm peers, pgbench ---------------------------------- */
function bestPeer(c, metric, lowerIsBetter) {
  let best = null, name = '', parts = [];
  for (const [key, label] of peersMllp) {
    const v = num(`mllp.${key}.${c}.${metric}`);
    if (v === null) continue;
    parts.push([label, v]);
    if (best === null || (lowerIsBetter ? v < best : v > best)) {
      best = v; name = label;
    }
  }
  return { best, name, parts };
}
for (const c of conns) {
  const rate = num(`mllp.hubd.${c}.rate`);
  const nacks = num(`mllp.hubd.${c}.nacks`);
  const peer = bestPeer(c, 'rate', false);
  const is32 = c === '32';
  let hubCell = rate === null ? na('hubd') : `${fmt(rate)} msg/s`;
  if (rate !== null && nacks) hubCell += ` (${fmt(nacks)} NAKs)`;
  row(`hubd durable MLLP ingest @${c} conn (vs npm, store nothing)`, hubCell,
    peer.best === null ? peerNa()
      : peer.parts.map(([l, v]) => `${l} ${fmt(v)}`).join('; ') + ' msg/s',
    ratio(rate, peer.best), is32 ? '>= 2x npm peers' : '',
    is32 && rate !== null && peer.best !== null ? rate >= 2 * peer.best : null);

  const tps = num(`pgbench.${c}.tps`);
  row(`hubd @${c} conn vs pgbench 1.5 KB row/commit @${c}`,
    rate === null ? na('hubd') : `${fmt(rate)} msg/s`,
    tps === null ? na('pgbench') : `pgbench ${fmt(tps)} tps`,
    ratio(rate, tps), is32 ? '>= pgbench ceiling' : '',
    is32 && rate !== null && tps !== null ? rate >= tps : null);

  const p50 = num(`mllp.hubd.${c}.p50`), p99 = num(`mllp.hubd.${c}.p99`);
  const pp = bestPeer(c, 'p99', true);
  const peerLat = peersMllp.map(([key, label]) => {
    const a = num(`mllp.${key}.${c}.p50`), b = num(`mllp.${key}.${c}.p99`);
    return a === null ? null : `${label} ${fmt(a, 2)} / ${fmt(b, 2)}`;
  }).filter(Boolean);
  const is8 = c === '8';
  row(`hubd ACK latency p50 / p99 @${c} conn (ms)`,
    p99 === null ? na('hubd') : `${fmt(p50, 2)} / ${fmt(p99, 2)}`,
    peerLat.length ? peerLat.join('; ') : peerNa(),
    ratio(p99, pp.best), is8 ? 'p99 < 10 ms' : '',
    is8 && p99 !== null ? p99 < 10 : null);

  /* where the 2 cores went: CPU per ACKed message (per transaction for
   * pgbench), whole run, each process's user + system time */
  const sum = (parts) => {
    const v = parts.map(([, k]) => num(k));
    if (v.some((x) => x === null)) return null;
    return parts.map(([l], i) => `${l} ${fmt(v[i], 1)}`).join(' + ') +
      ` = ${fmt(v.reduce((a, b) => a + b, 0), 1)}`;
  };
  const hubCpu = sum([['PostgreSQL', `mllp.hubd.${c}.cpu_pg_us`],
    ['hubd', `mllp.hubd.${c}.cpu_server_us`],
    ['client', `mllp.hubd.${c}.cpu_client_us`]]);
  const peerCpu = [
    ['pgbench', sum([['PostgreSQL', `pgbench.${c}.cpu_pg_us`],
      ['pgbench', `pgbench.${c}.cpu_client_us`]])],
    ...peersMllp.map(([key, label]) => [label,
      sum([['server', `mllp.${key}.${c}.cpu_server_us`],
        ['client', `mllp.${key}.${c}.cpu_client_us`]])]),
  ].filter(([, v]) => v !== null).map(([l, v]) => `${l}: ${v}`);
  if (hubCpu !== null || peerCpu.length)
    row(`  CPU per message @${c} conn (us, user + system)`,
      hubCpu === null ? na('hubd') : hubCpu,
      peerCpu.length ? peerCpu.join('; ') : peerNa(), '', '', null);
}

/* --- memory ---------------------------------------------------------------- */
{
  const idle = raw.get('config.idle') || '1000';
  const rss = num('rss.hubd');
  const open = num('rss.hubd.open');
  const parts = peersMllp.map(([key, label]) => {
    const v = num(`rss.${key}`);
    return v === null ? null : `${label} ${fmt(v, 1)} MB`;
  }).filter(Boolean);
  let best = null;
  for (const [key] of peersMllp) {
    const v = num(`rss.${key}`);
    if (v !== null && (best === null || v < best)) best = v;
  }
  let hub = rss === null ? na('hubd') : `${fmt(rss, 1)} MB`;
  if (rss !== null && open !== null && String(open) !== idle) {
    hub += ` (only ${fmt(open)} of ${idle} stayed open)`;
  }
  row(`hubd resident memory, ${idle} idle MLLP conns`, hub,
    parts.length ? parts.join('; ') : peerNa(), ratio(rss, best), '< 64 MB',
    rss === null ? null : rss < 64 && (open === null || String(open) === idle));
}

/* --- issue 4: delivery ----------------------------------------------------- */
{
  const ceil = num('curl.ceiling');
  for (const n of ['1', '10']) {
    const d = num(`deliver.${n}.rate`);
    row(`webhook deliveries/s, ${n} subscription${n === '1' ? '' : 's'}`,
      d === null ? na('dispatch') : `${fmt(d)} /s`,
      ceil === null ? na('curl') : `plain libcurl multi ${fmt(ceil)} POST/s`,
      ratio(d, ceil), '>= 0.5x plain POST ceiling',
      d === null || ceil === null ? null : d >= 0.5 * ceil);
  }
  /* key lat: the corpus as it is; burst: its messages in runs of four of
   * one patient (gen_adt -b 4), delivered in order, one after another */
  for (const [key, what] of [['lat', ''],
                             ['burst', ', bursts of 4 events a patient']]) {
    const p50 = num(`deliver.${key}.p50`), p99 = num(`deliver.${key}.p99`);
    const got = num(`deliver.${key}.achieved`);
    const nDel = num(`deliver.${key}.n`), nAck = num(`deliver.${key}.acked`);
    /* p50/p99: messages sent after the load client's warm-up (as its ACK
     * latencies); allP99: every delivery, the warm-up's included */
    const allP99 = num(`deliver.${key}.all_p99`);
    /* Percentiles over what arrived; when some never did (10 s after the
     * run), the true ones are higher: say so, and the target is not met. */
    const short = nDel !== null && nAck !== null && nDel < nAck;
    row(`ingest-to-delivery p50 / p99 at 1,000 msg/s offered${what} (ms)`,
      p99 === null ? na('dispatch') : `${short ? '>= ' : ''}${fmt(p50, 1)} / ` +
        `${short ? '>= ' : ''}${fmt(p99, 1)}` +
        (got === null ? '' : ` (ingest achieved ${fmt(got)} msg/s)`) +
        (allP99 === null ? '' : `; p99 with the 1 s warm-up: ${fmt(allP99, 1)}`) +
        (short ? `; only ${fmt(nDel)} of ${fmt(nAck)} ACKed messages delivered within 10 s` : ''),
      '', '', 'p99 < 100 ms', p99 === null ? null : p99 < 100 && !short);
  }
  row('plain libcurl multi POSTs/s, 8 at once, same receiver (ceiling)', '',
    ceil === null ? na('curl') : `${fmt(ceil)} POST/s`, '', '', null);
}

/* --- issue 5: other adapters and HTTPS ingest --------------------------- */
{
  /* Each adapter against the durable path for its own format, in its own
   * unit: bundles/s against POST /v1/fhir bundles/s, documents against
   * POST /v1/ccda documents, CSV rows against the rows POST
   * /v1/csv/screenings used, all at 8 HTTPS connections in this run. */
  const durable = {
    fhir: ['https.fhir.rate', 'https_fhir', 'POST /v1/fhir', 'bundles/s'],
    ccda: ['https.ccda.rate', 'https_ccda', 'POST /v1/ccda', 'docs/s'],
    csv: ['https.csv.units', 'https_csv', 'POST /v1/csv/screenings', 'rows/s'],
  };
  for (const [key, label, unit] of [
    raw.get('fhir.units') === 'resources' && num('parse.hub.fhir') !== null
      ? ['fhir', 'FHIR screening resources normalized (no bundle sample), 1 core', 'resources/s']
      : ['fhir', 'FHIR screening bundles normalized, 1 core', 'bundles/s'],
    ['ccda', 'C-CDA documents normalized, 1 core', 'docs/s'],
    ['csv', 'CSV rows normalized, 1 core', 'rows/s']]) {
    const [v, cell] = parseCell(key, unit);
    const [dkey, comp, path, dunit] = durable[key];
    /* a FHIR rate over single resources is not in bundles: no ratio */
    const d = unit === dunit ? num(dkey) : null;
    const dcell = d === null ? (unit === dunit ? `durable ${path}: ${na(comp)}`
      : `durable ${path} is in ${dunit}, not ${unit}`)
      : `durable ${path} @8 conn ${fmt(d)} ${dunit}`;
    row(label, cell, dcell, ratio(v, d), '>= 10x its durable ingest rate',
      v === null || d === null ? null : v >= 10 * d);
  }
  {
    /* no target: the care-coordination code (referrals, care plans,
     * conditions, goals) that the screening row never runs (F1661). A
     * unit is a file: a resource or a bundle of several (F1825) */
    const [, cell] = parseCell('fhir_care', 'documents/s');
    row('  FHIR referral, care-plan, condition and goal documents (resources or bundles) normalized, 1 core',
      cell, '', '', '', null);
  }
  function docRow(key, comp, what, unit) {
    const v = num(`https.${key}.rate`);
    const r = num(`https.${key}.refused`);
    const dups = num(`https.${key}.dups`);
    const units = num(`https.${key}.units`);
    let cell = v === null ? na(comp) : `${fmt(v)} ${unit}` +
      (key === 'csv' && units !== null ? ` = ${fmt(units)} rows/s` +
        (num('https.csv.rows_per_file') !== null
          ? ` (${fmt(num('https.csv.rows_per_file'))} rows per file)` : '') : '') +
      `, p50 / p99 ${fmt(num(`https.${key}.p50`), 2)} / ` +
      `${fmt(num(`https.${key}.p99`), 2)} ms` +
      (r ? `, ${fmt(r)} refused` : '') +
      (dups ? `, ${fmt(dups)} duplicates not counted` : '');
    row(`durable ingest over HTTPS @8 conn (${what})`, cell, '', '', '', null);
  }
  docRow('fhir', 'https_fhir', 'POST /v1/fhir, screening bundle', 'bundles/s');
  docRow('ccda', 'https_ccda', 'POST /v1/ccda, the normalized documents in turn', 'docs/s');
  docRow('csv', 'https_csv', 'POST /v1/csv/screenings', 'files/s');
  const https = num('https.8.rate');
  const tps = num('pgbench.8.tps');
  const hp50 = num('https.8.p50'), hp99 = num('https.8.p99');
  const hrefused = num('https.8.refused');
  row('durable ingest over HTTPS @8 conn (POST /v1/hl7v2)',
    https === null ? na('https') : `${fmt(https)} msg/s, p50 / p99 ` +
      `${fmt(hp50, 2)} / ${fmt(hp99, 2)} ms` +
      (hrefused ? `, ${fmt(hrefused)} refused` : '') +
      (num('https.8.dups') ? `, ${fmt(num('https.8.dups'))} duplicates not counted` : ''),
    tps === null ? pgbenchNa('8') : `pgbench @8 ${fmt(tps)} tps`,
    ratio(https, tps), '', null);
}

/* --- print -------------------------------------------------------------- */
const head = ['measurement', 'hub', 'peer / ceiling', 'ratio', 'target', 'met'];
const cpu = (os.cpus()[0] || { model: 'unknown' }).model;
const lines = [];
lines.push(`# make bench results`);
lines.push('');
lines.push(`${new Date().toISOString()} on ${os.cpus().length} x ${cpu}; ` +
  `${raw.get('config.seconds') || '?'} s per load step; corpus: ` +
  `${raw.get('corpus.info') || '?'}. Load average (1 min) before the run ` +
  `${raw.get('load.start') || '?'}, after ${raw.get('load.end') || '?'}` +
  (Number(raw.get('load.start')) > 1 ? ': other work was running, and every figure here ' +
    'shares the 2 cores with it' : '') + '.');
lines.push('');
lines.push(`| ${head.join(' | ')} |`);
lines.push(`|${head.map(() => '---').join('|')}|`);
for (const r of rows) lines.push(`| ${r.join(' | ')} |`);
lines.push('');
lines.push('Ratios are hub / peer (for latency, lower is better). npm MLLP ' +
  'servers store nothing; hubd commits each message (raw, events, audit) ' +
  'before its ACK. Logs of every step: build/bench/log/.');
const text = lines.join('\n') + '\n';
fs.writeFileSync(mdPath, text);
process.stdout.write(text);
