/*
 * peer_mllp.js - an npm MLLP server that ACKs every message and stores
 * nothing: the peer for the hub's durable MLLP ingest.
 *   node peer_mllp.js simple-hl7|medplum
 * Listens on an ephemeral loopback port and prints "port=N" once it accepts
 * connections; runs until killed.
 */
'use strict';
const which = process.argv[2];

function ready(server) {
  const report = () => console.log(`port=${server.address().port}`);
  if (server.listening) report(); else server.once('listening', report);
}

if (which === 'simple-hl7') {
  const hl7 = require('simple-hl7');
  const app = hl7.tcp();
  app.use((req, res) => res.end());     /* the stock ACK (AA), nothing kept */
  app.use((err, req, res) => {
    if (res) res.end();
  });
  const srv = app.start(0);
  ready(srv.server);
} else if (which === 'medplum') {
  const { Hl7Server } = require('@medplum/hl7');
  const server = new Hl7Server((conn) => {
    conn.addEventListener('message', ({ message }) => {
      conn.send(message.buildAck());
    });
    conn.addEventListener('error', () => {});
  });
  server.start(0);
  ready(server.server);
} else {
  console.error('usage: node peer_mllp.js simple-hl7|medplum');
  process.exit(2);
}
