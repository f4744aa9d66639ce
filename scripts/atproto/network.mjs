// The AT Protocol peer servers for loudhailer's tests: Bluesky's own PLC
// directory, PDS and AppView (plus the Ozone moderation service they expect),
// started in one Node process by @atproto/dev-env's TestNetwork, exactly as
// Bluesky's own tests run them.
//
// `scripts/peers start-atproto` copies this file next to the installed
// node_modules (.peers/atproto/) and runs it there with Node 22. It is
// configured entirely by environment variables (set by that script):
//
//   ATPROTO_PLC_PORT, ATPROTO_PDS_PORT, ATPROTO_APPVIEW_PORT,
//   ATPROTO_OZONE_PORT, ATPROTO_CONTROL_PORT   fixed loopback ports
//   DB_POSTGRES_URL, ATPROTO_PG_SCHEMA         the AppView's PostgreSQL
//   REDIS_HOST                                 host:port of the AppView's Redis
//   ATPROTO_INFO_FILE                          where to write the JSON below
//
// When every service is up it writes ATPROTO_INFO_FILE (atomically), which
// the shell script waits for and the Rust test helpers read:
//
//   { "pds": "http://localhost:PORT", "appview": …, "plc": …, "ozone": …,
//     "pid": N, "pds_did": "did:web:localhost", "handle_domains": [".test"],
//     "invite_required": false, "jwt_secret": …, "admin_password": …,
//     "process_all": "http://127.0.0.1:PORT/process-all" }
//
// The AppView follows the PDS firehose by itself, so tests need not call
// `process_all`; it is there for a test that wants to wait until everything
// the PDS has emitted so far is indexed (POST it; 200 when done).
//
// SIGTERM or SIGINT closes the network and exits.

import fs from 'node:fs'
import http from 'node:http'
import { ADMIN_PASSWORD, JWT_SECRET, TestNetwork } from '@atproto/dev-env'

const env = (name) => {
  const value = process.env[name]
  if (!value) {
    console.error(`network.mjs: ${name} is not set`)
    process.exit(2)
  }
  return value
}
const port = (name) => Number.parseInt(env(name), 10)

const infoFile = env('ATPROTO_INFO_FILE')
const controlPort = port('ATPROTO_CONTROL_PORT')

const network = await TestNetwork.create({
  dbPostgresUrl: env('DB_POSTGRES_URL'),
  // dev-env derives schema names from this (appview_…, bsync_…, ozone_…);
  // PostgreSQL accepts only letters and '_' here.
  dbPostgresSchema: env('ATPROTO_PG_SCHEMA'),
  plc: { port: port('ATPROTO_PLC_PORT') },
  pds: {
    port: port('ATPROTO_PDS_PORT'),
    hostname: 'localhost',
    // createSession and refreshSession return didDoc, as bsky.social's PDSes
    // do, so a client can find its PDS from the session.
    enableDidDocWithSession: true,
    // dev-env also lists '.example', which createAccount refuses ("Handle
    // TLD is invalid or disallowed"); advertise only what works.
    serviceHandleDomains: ['.test'],
  },
  bsky: { port: port('ATPROTO_APPVIEW_PORT') },
  ozone: { port: port('ATPROTO_OZONE_PORT') },
})

// A loopback-only control endpoint: POST /process-all waits until the PDS's
// background queue, Ozone and the AppView have processed everything so far.
let closing = false
const control = http.createServer((req, res) => {
  if (req.method === 'POST' && req.url === '/process-all') {
    network
      .processAll()
      .then(() => {
        res.writeHead(200, { 'content-type': 'application/json' })
        res.end('{"ok":true}')
      })
      .catch((err) => {
        res.writeHead(500, { 'content-type': 'application/json' })
        res.end(JSON.stringify({ ok: false, error: String(err) }))
      })
  } else if (req.method === 'GET' && req.url === '/health') {
    res.writeHead(closing ? 503 : 200, { 'content-type': 'application/json' })
    res.end(JSON.stringify({ ok: !closing }))
  } else {
    res.writeHead(404)
    res.end()
  }
})
await new Promise((resolve, reject) => {
  control.once('error', reject)
  control.listen(controlPort, '127.0.0.1', resolve)
})

const pdsCfg = network.pds.ctx.cfg
const info = {
  pds: network.pds.url,
  appview: network.bsky.url,
  plc: network.plc.url,
  ozone: network.ozone.url,
  process_all: `http://127.0.0.1:${controlPort}/process-all`,
  pid: process.pid,
  pds_did: pdsCfg.service.did,
  handle_domains: pdsCfg.identity.serviceHandleDomains,
  invite_required: pdsCfg.invites.required,
  // Throwaway constants of @atproto/dev-env, published so tests can mint
  // tokens (e.g. an already-expired access JWT) and use admin endpoints.
  jwt_secret: JWT_SECRET,
  admin_password: ADMIN_PASSWORD,
}
fs.writeFileSync(`${infoFile}.tmp`, JSON.stringify(info, null, 2) + '\n')
fs.renameSync(`${infoFile}.tmp`, infoFile)
console.log(`network.mjs: ready ${JSON.stringify(info)}`)

const shutdown = async (signal) => {
  if (closing) return
  closing = true
  console.log(`network.mjs: ${signal}, closing`)
  // close() runs processAll() first; do not let a stuck queue keep us alive.
  const timer = setTimeout(() => {
    console.error('network.mjs: close timed out, exiting')
    process.exit(1)
  }, 20_000)
  try {
    control.close()
    await network.close()
  } catch (err) {
    console.error('network.mjs: close failed', err)
  }
  clearTimeout(timer)
  process.exit(0)
}
process.on('SIGTERM', () => void shutdown('SIGTERM'))
process.on('SIGINT', () => void shutdown('SIGINT'))
