// A relying party no one here wrote: an Express app using Auth0's express-openid-connect with
// Back-Channel Logout on, pointed at our gateway as its issuer. It runs as its own process and
// reports on stdout; GET /_store shows what the library recorded in its logout store.
'use strict';
const http = require('node:http');
const express = require('express');
const { auth } = require('express-openid-connect');

const entries = new Map();
// The callback API of an express-session store, which the library accepts as `backchannelLogout.store`.
const store = {
  get: (key, cb) => cb(null, entries.get(key) ?? null),
  set: (key, value, cb) => {
    entries.set(key, value);
    cb(null);
  },
  destroy: (key, cb) => {
    entries.delete(key);
    cb(null);
  },
};

const app = express();
const server = http.createServer(app);
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  app.use(
    auth({
      issuerBaseURL: process.env.ISSUER_BASE_URL,
      baseURL: `http://127.0.0.1:${port}`,
      clientID: process.env.CLIENT_ID,
      secret: 'a-long-enough-cookie-secret-for-this-test-app',
      authRequired: false,
      idpLogout: false,
      backchannelLogout: { store },
    }),
  );
  app.get('/_store', (_req, res) => res.json([...entries.keys()].sort()));
  process.stdout.write(`LISTENING ${port}\n`);
});
