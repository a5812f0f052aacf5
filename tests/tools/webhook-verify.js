#!/usr/bin/env node
// webhook-verify.js DIR - a webhook receiver on 127.0.0.1 that checks each
// delivery with an implementation of Standard Webhooks that is not the
// hub's: the `standardwebhooks` npm package (tests/tools/package.json), as
// a partner's endpoint would. tests/e2e/stdwebhooks_test.c runs it.
//
// DIR/secrets: the secrets to try, whsec_..., one a line, read again at
// each request (a test rotates them). It listens on a free port, writes it
// to DIR/port, and appends to DIR/log one line a request:
//   <webhook-id> <webhook-timestamp> <signatures> <type> <result>...
// one result per secret: "ok", or the package's error with spaces as "_"
// (No_matching_signature_found, Message_timestamp_too_old, ...). Never the
// body: it carries the test's canary personal values. Answers 204.
'use strict';
const fs = require('fs');
const http = require('http');
const path = require('path');
const { Webhook } = require('standardwebhooks');

const dir = process.argv[2];
if (!dir) {
  console.error('usage: node tests/tools/webhook-verify.js DIR');
  process.exit(2);
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    // the bytes as received, as the hub signed them: never a string
    // decoded and encoded again, never parsed JSON written back
    const body = Buffer.concat(chunks);
    let secrets = [];
    try {
      secrets = fs.readFileSync(path.join(dir, 'secrets'), 'utf8')
        .split('\n').filter((s) => s.length > 0);
    } catch (e) { /* none yet: no results */ }
    const results = secrets.map((s) => {
      try {
        new Webhook(s).verify(body, req.headers);
        return 'ok';
      } catch (e) {
        return String(e.message).replace(/\s+/g, '_');
      }
    });
    let type = '-';
    try {
      type = JSON.parse(body.toString('utf8')).type || '-';
    } catch (e) { /* not JSON: "-" */ }
    const sigs = (req.headers['webhook-signature'] || '').split(' ').length;
    fs.appendFileSync(path.join(dir, 'log'),
      `${req.headers['webhook-id'] || '-'} ` +
      `${req.headers['webhook-timestamp'] || '-'} ${sigs} ${type} ` +
      `${results.join(' ')}\n`);
    res.writeHead(204);
    res.end();
  });
});
server.listen(0, '127.0.0.1', () => {
  const tmp = path.join(dir, 'port.tmp');
  fs.writeFileSync(tmp, String(server.address().port));
  fs.renameSync(tmp, path.join(dir, 'port'));
});
