#!/usr/bin/env node
// webhook-rx.js PORT SECRET [STATUS] - a webhook receiver on 127.0.0.1 for
// trying the hub by hand (README, "A quick tour"). For each delivery it
// prints the webhook-id, whether one of the webhook-signature values is
// the HMAC-SHA256 of "id.timestamp.body" under SECRET (whsec_<base64>, the
// subscription's secret), and the event's type and id: never the body, which
// carries personal data. It answers STATUS (default 204): 500 shows the
// retries, 410 a dead letter and a disabled subscription (deploy/webhooks.md).
// No dependencies beyond Node.js.
'use strict';
const crypto = require('crypto');
const http = require('http');

const [port, secret, status = '204'] = process.argv.slice(2);
if (!/^\d+$/.test(port || '') || !/^whsec_[A-Za-z0-9+/=]+$/.test(secret || '') ||
    !/^[1-5]\d\d$/.test(status)) {
  console.error('usage: node tests/tools/webhook-rx.js PORT whsec_SECRET [STATUS]');
  process.exit(2);
}
const key = Buffer.from(secret.slice('whsec_'.length), 'base64');

http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    const id = req.headers['webhook-id'] || '-';
    const ts = req.headers['webhook-timestamp'] || '-';
    const want = Buffer.from('v1,' + crypto.createHmac('sha256', key)
      .update(`${id}.${ts}.`).update(body).digest('base64'));
    const sigs = (req.headers['webhook-signature'] || '').split(' ');
    // as a receiver should: a constant-time comparison with each value,
    // and a timestamp within 5 minutes of this clock (a replayed capture)
    const signed = sigs.some((s) => Buffer.byteLength(s) === want.length &&
      crypto.timingSafeEqual(Buffer.from(s), want));
    const fresh = /^\d+$/.test(ts) && Math.abs(Date.now() / 1000 - Number(ts)) <= 300;
    let type = '-', event = '-';
    try {
      const ev = JSON.parse(body);
      type = ev.type;
      event = ev.id;
    } catch (e) { /* not JSON: printed as "-" */ }
    console.log(`${new Date().toISOString()} ${req.method} ${req.url} ` +
      `webhook-id=${id} signature=${signed ? 'ok' : 'BAD'}` +
      `${fresh ? '' : ' timestamp=STALE'} ` +
      `type=${type} event=${event} answer=${status}`);
    res.writeHead(Number(status), { 'content-length': '0' });
    res.end();
  });
}).listen(Number(port), '127.0.0.1', () => {
  console.log(`webhook-rx: listening on http://127.0.0.1:${port}/`);
});
