/*
 * peers_parse.js - the npm HL7 v2 parsers on the bench corpus, one core.
 *   node peers_parse.js CORPUS SECONDS
 * For each parser: parse every message and read the fields the hub's
 * normalizer reads (MSH-9, MSH-10, PID-3, PID-5, PID-7, PID-8, PID-11.9,
 * PV1-2, PV1-3, PV1-44, each DG1-3), so that a lazy parser cannot win by
 * not parsing. The peers do not build any output document, which favours
 * them. Prints one line per parser: "parse_peer NAME msgs_per_s=N mb_per_s=N
 * errors=N". A parser that fails on a message counts an error and goes on.
 */
'use strict';
const fs = require('fs');

const [corpusPath, secondsArg] = process.argv.slice(2);
const seconds = Number(secondsArg || 5);
const corpus = fs.readFileSync(corpusPath, 'latin1').split('\n').filter(Boolean);
const bytes = corpus.reduce((n, m) => n + m.length, 0) / corpus.length;

function simpleHl7() {
  const hl7 = require('simple-hl7');
  const p = new hl7.Parser();
  return (m) => {
    const x = p.parse(m);
    const pid = x.getSegment('PID');
    const pv1 = x.getSegment('PV1');
    let n = x.header.getField(7).length + x.header.getField(8).length +
      pid.getField(3, 1).length + pid.getField(5, 1).length +
      pid.getField(7).length + pid.getField(8).length +
      pid.getComponent(11, 9).length + pv1.getField(2).length +
      pv1.getField(3).length + pv1.getField(44).length;
    for (const d of x.getSegments('DG1')) n += d.getComponent(3, 1).length;
    return n;
  };
}

function hl7parser() {
  const hl7 = require('hl7parser');
  /* hl7parser rejects the empty segment after a final CR: give it none. */
  return (m) => {
    const x = hl7.create(m.endsWith('\r') ? m.slice(0, -1) : m);
    let n = x.get('MSH.9').toString().length + x.get('MSH.10').toString().length +
      x.get('PID.3').toString().length + x.get('PID.5.1').toString().length +
      x.get('PID.7').toString().length + x.get('PID.8').toString().length +
      x.get('PID.11.9').toString().length + x.get('PV1.2').toString().length +
      x.get('PV1.3').toString().length + x.get('PV1.44').toString().length;
    x.get('DG1').forEach((d) => { n += d.get(3).toString().length; });
    return n;
  };
}

function medplum() {
  const { Hl7Message } = require('@medplum/core');
  return (m) => {
    const x = Hl7Message.parse(m);
    const pid = x.getSegment('PID');
    const pv1 = x.getSegment('PV1');
    let n = x.header.getField(9).toString().length +
      x.header.getField(10).toString().length +
      pid.getField(3).toString().length + pid.getComponent(5, 1).length +
      pid.getField(7).toString().length + pid.getField(8).toString().length +
      pid.getComponent(11, 9).length + pv1.getField(2).toString().length +
      pv1.getField(3).toString().length + pv1.getField(44).toString().length;
    for (const d of x.getAllSegments('DG1')) n += d.getComponent(3, 1).length;
    return n;
  };
}

function run(name, make) {
  let fn;
  try {
    fn = make();
  } catch (e) {
    console.log(`parse_peer ${name} msgs_per_s=na mb_per_s=na errors=load`);
    return;
  }
  let i = 0, done = 0, errors = 0, sink = 0;
  /* warm the JIT on a tenth of the corpus before timing */
  for (let w = 0; w < Math.min(2000, corpus.length); w++) {
    try { sink += fn(corpus[w]); } catch (e) { /* counted below */ }
  }
  const t0 = process.hrtime.bigint();
  const limit = BigInt(Math.round(seconds * 1e9));
  let elapsed = 0n;
  while (elapsed < limit) {
    for (let k = 0; k < 256; k++) {
      try { sink += fn(corpus[i]); done++; } catch (e) { errors++; }
      if (++i === corpus.length) i = 0;
    }
    elapsed = process.hrtime.bigint() - t0;
  }
  const s = Number(elapsed) / 1e9;
  const rate = done / s;
  console.log(`parse_peer ${name} msgs_per_s=${rate.toFixed(0)} ` +
    `mb_per_s=${(rate * bytes / 1e6).toFixed(1)} errors=${errors} sink=${sink % 7}`);
}

run('simple-hl7', simpleHl7);
run('@medplum/hl7', medplum);
run('hl7parser', hl7parser);
