#!/usr/bin/env node
// A small TCP service to put behind a route: it answers each line with
// "<version> <workload> <served> <line>". It binds SWITCHYARD_ADDRESS:SWITCHYARD_PORT (what the
// agent gives a workload run with --port), so several hosts' copies can share a port. A
// connection that opens with "GET /healthz" gets an HTTP answer instead: 200, or 503 while it
// is failing (for a route's `healthCheck: {kind: http, path: /healthz}`).
//
// It checkpoints like a long job: on SIGUSR1 it stops accepting, lets open connections finish,
// saves how many requests it has served into SWITCHYARD_STATE_DIR and exits 0; started again
// with SWITCHYARD_RESTORE=1 it resumes the count. On SIGUSR2 it starts failing its health
// checks (it still answers requests): a backend going bad, for tests and drills.
//
//   yard run --name api-blue --port 9000 --env VERSION=blue -- node examples/echo-server.mjs
import { existsSync, readFileSync, writeFileSync, renameSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

const host = process.env.SWITCHYARD_ADDRESS || '127.0.0.1';
const port = Number(process.env.SWITCHYARD_PORT || process.argv[2] || 9000);
const version = process.env.VERSION || 'v1';
const name = process.env.SWITCHYARD_WORKLOAD || 'echo';
const stateDir = process.env.SWITCHYARD_STATE_DIR;
const stateFile = stateDir ? join(stateDir, 'echo-state.json') : undefined;

let served = 0;
if (process.env.SWITCHYARD_RESTORE === '1' && stateFile && existsSync(stateFile)) {
  served = JSON.parse(readFileSync(stateFile, 'utf8')).served;
  console.log(`restored: served=${served}`);
}

let failing = false;

function answerHealth(socket) {
  const [status, body] = failing ? ['503 Service Unavailable', 'failing\n'] : ['200 OK', 'ok\n'];
  socket.end(
    `HTTP/1.1 ${status}\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
  );
}

const open = new Set();
const server = createServer({ allowHalfOpen: true }, (socket) => {
  open.add(socket);
  socket.setNoDelay(true);
  let buffered = '';
  let health = false;
  socket.setEncoding('utf8');
  socket.on('data', (chunk) => {
    if (health) return;
    buffered += chunk;
    if (buffered.startsWith('GET /healthz')) {
      health = true;
      answerHealth(socket);
      return;
    }
    if ('GET /healthz'.startsWith(buffered)) return;
    for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      served++;
      socket.write(`${version} ${name} ${served} ${line}\n`);
    }
  });
  socket.on('end', () => socket.end());
  socket.on('error', () => socket.destroy());
  socket.on('close', () => open.delete(socket));
});

function listen(triesLeft) {
  server.once('error', (err) => {
    // The previous copy of this workload may still be letting go of the port.
    if (err.code === 'EADDRINUSE' && triesLeft > 0) setTimeout(() => listen(triesLeft - 1), 100);
    else {
      console.error(`cannot listen on ${host}:${port}: ${err.message}`);
      process.exit(1);
    }
  });
  server.listen(port, host, () => console.log(`listening on ${host}:${port} version=${version}`));
}
listen(50);

/** Resolves when every open connection has closed, or after `ms`. */
function drained(ms) {
  return new Promise((resolve) => {
    const deadline = Date.now() + ms;
    const poll = () => (open.size === 0 || Date.now() > deadline ? resolve() : setTimeout(poll, 20));
    poll();
  });
}

process.on('SIGUSR1', async () => {
  server.close();
  await drained(2000);
  if (stateFile) {
    writeFileSync(`${stateFile}.tmp`, JSON.stringify({ served }));
    renameSync(`${stateFile}.tmp`, stateFile);
  }
  console.log(`checkpointed: served=${served}`);
  process.exit(0);
});

process.on('SIGUSR2', () => {
  console.log('failing: health checks now answer 503');
  failing = true;
});

process.on('SIGTERM', async () => {
  server.close();
  await drained(2000);
  process.exit(0);
});
