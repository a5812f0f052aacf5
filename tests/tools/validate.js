#!/usr/bin/env node
// validate.js [ROOT] - check every canonical-event golden under
// ROOT/tests/data (every *.json that is an event or an array of events;
// *.err.json and other JSON, such as FHIR inputs, are skipped) against
// ROOT/schemas/canonical-event.schema.json with its bodies, JSON Schema
// draft 2020-12 (ajv). Each event is checked twice: as the adapter wrote it
// (without the four hub-only fields), and with id, source.org,
// source.received_at and patient.hub_id filled in as the ingest transaction
// would, so that the schema of those fields is exercised too.
// Prints one line per failure (file, event index, instance path, message)
// and a summary; exits 1 on any failure, 2 when nothing could be checked.
'use strict';
const fs = require('fs');
const path = require('path');
const Ajv2020 = require('ajv/dist/2020');
const addFormats = require('ajv-formats');

const root = path.resolve(process.argv[2] || process.env.HUB_ROOT || '.');
const schemaDir = path.join(root, 'schemas');

function jsonFiles(dir) {
  let out = [];
  let ents;
  try { ents = fs.readdirSync(dir, { withFileTypes: true }); } catch { return out; }
  for (const e of ents) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out = out.concat(jsonFiles(p));
    else if (e.name.endsWith('.json') && !e.name.endsWith('.err.json')) out.push(p);
  }
  return out.sort();
}

const isEvent = (d) => d !== null && typeof d === 'object' && !Array.isArray(d) &&
  typeof d.type === 'string' && d.source !== null && typeof d.source === 'object';

const ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false, strictTypes: false });
addFormats(ajv);
for (const f of jsonFiles(schemaDir).filter((f) => f.endsWith('.schema.json'))) {
  ajv.addSchema(JSON.parse(fs.readFileSync(f, 'utf8')));
}
const validate = ajv.getSchema('https://carehub.example/schemas/canonical-event.schema.json');
if (!validate) {
  console.error('validate: schemas/canonical-event.schema.json not found or has no $id');
  process.exit(2);
}

function withHubFields(ev) {
  const e = JSON.parse(JSON.stringify(ev));
  e.id = '01JH5ZQ8W6M2K3N4P5R6S7T8V9';
  e.source.org = 'org-test';
  e.source.received_at = '2026-01-15T14:30:00.123Z';
  if (e.patient && typeof e.patient === 'object') e.patient.hub_id = 'pat-test';
  return e;
}

let checked = 0, failed = 0;

// The schema must refuse these, or it checks nothing.
const good = {
  type: 'adt.admit', source: { format: 'hl7v2', message_id: 'M1' },
  patient: { identifiers: [{ value: '1' }] }, encounter: {},
};
const mutate = (f) => { const e = JSON.parse(JSON.stringify(good)); f(e); return e; };
const mustFail = {
  'no body': mutate((e) => { delete e.encounter; }),
  'two bodies': mutate((e) => { e.condition = { category: 'x' }; }),
  'body of another topic': mutate((e) => { e.type = 'goal.updated'; }),
  'empty string member': mutate((e) => { e.source.sending_facility = ''; }),
  'unknown member': mutate((e) => { e.patient.ssn = '1'; }),
  'unknown topic': mutate((e) => { e.type = 'adt.teleport'; }),
  'an identifier marked inactive false': mutate((e) => { e.patient.identifiers[0].inactive = false; }),
  'merged_from outside adt.merge': mutate((e) => { e.patient.merged_from = [{ value: '2' }]; }),
  'bad timestamp': mutate((e) => { e.occurred_at = '20260115'; }),
  'bad sex': mutate((e) => { e.patient.sex = '2'; }),
  'bad class': mutate((e) => { e.encounter.class = 'INPATIENT'; }),
  'no patient': mutate((e) => { delete e.patient; }),
  'a data event of format hub': mutate((e) => { e.source.format = 'hub'; }),
  'a hub event with a patient': mutate((e) => {
    e.type = 'hub.health'; e.source.format = 'hub'; delete e.encounter;
    e.health = { subscription: 's', from: 'healthy', to: 'failing',
                 reason: 'failed_attempts', delivery: 'dlv_1' };
  }),
  'a hub event of another format': mutate((e) => {
    e.type = 'hub.health'; delete e.patient; delete e.encounter;
    e.health = { subscription: 's', from: 'healthy', to: 'failing',
                 reason: 'failed_attempts', delivery: 'dlv_1' };
  }),
  'a health change to an unknown state': mutate((e) => {
    e.type = 'hub.health'; e.source.format = 'hub'; delete e.patient;
    delete e.encounter;
    e.health = { subscription: 's', from: 'healthy', to: 'sick',
                 reason: 'failed_attempts', delivery: 'dlv_1' };
  }),
  'a digest without counts': mutate((e) => {
    e.type = 'hub.digest'; e.source.format = 'hub'; delete e.patient;
    delete e.encounter;
    e.digest = { from: '2026-01-01T00:00:00Z', to: '2026-01-01T01:00:00Z',
                 subscriptions: [{ subscription: 's', health: 'healthy' }] };
  }),
  // the consent body (F564, F640): a rule's actor names its party by
  // reference or identifier, a role is a code object, nested rules are
  // rules and nothing else
  'a consent actor with neither reference nor identifier': consent((c) => {
    c.actors = [{ role: { code: 'IRCP' } }];
  }),
  'a consent actor role as a bare code': consent((c) => {
    c.actors = [{ role: 'IRCP', reference: 'Organization/o' }];
  }),
  'a nested consent rule with an unknown member': consent((c) => {
    c.provisions = [{ type: 'deny', provisions: [{ type: 'permit', actor: [] }] }];
  }),
  'a consent data item of an unknown meaning': consent((c) => {
    c.provisions = [{ type: 'deny', data: [{ meaning: 'all', reference: 'Encounter/e' }] }];
  }),
  'a consent label that is no hub label': consent((c) => { c.labels = ['42CFRPart2']; }),
};
function consent(f) {
  const e = mutate((x) => {
    x.type = 'consent.updated'; delete x.encounter;
    x.consent = { status: 'active', provision: 'permit',
                  actors: [{ role: { code: 'IRCP' }, identifier: { value: '1' } }],
                  provisions: [{ type: 'deny', labels: ['sud'] }] };
  });
  f(e.consent);
  return e;
}
if (!validate(consent(() => {}))) {
  console.log('validate: the minimal good consent is refused: ' + JSON.stringify(validate.errors));
  failed++;
}
if (!validate(good)) {
  console.log('validate: the minimal good event is refused: ' + JSON.stringify(validate.errors));
  failed++;
}
for (const [what, ev] of Object.entries(mustFail)) {
  if (validate(ev)) {
    console.log(`validate: schema accepts an event with ${what}`);
    failed++;
  }
}
for (const f of jsonFiles(path.join(root, 'tests', 'data'))) {
  let doc;
  try { doc = JSON.parse(fs.readFileSync(f, 'utf8')); } catch (e) {
    continue;                       // not JSON at all: not a golden event
  }
  const events = Array.isArray(doc) ? doc : [doc];
  if (events.length === 0 || !events.every(isEvent)) continue;
  const rel = path.relative(root, f);
  events.forEach((ev, i) => {
    for (const [label, inst] of [['as written', ev], ['with hub fields', withHubFields(ev)]]) {
      checked++;
      if (!validate(inst)) {
        failed++;
        for (const err of validate.errors) {
          console.log(`${rel}[${i}] (${label}) ${err.instancePath || '/'}: ${err.message}` +
            (err.params && Object.keys(err.params).length ? ' ' + JSON.stringify(err.params) : ''));
        }
      }
    }
  });
}
console.log(`validate: ${checked} checks, ${failed} failed`);
process.exit(checked === 0 ? 2 : failed ? 1 : 0);
