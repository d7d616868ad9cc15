// A relying party no one here wrote: an Express app using Auth0's express-openid-connect with
// Back-Channel Logout on, pointed at our gateway as its issuer, accepting the algorithm
// ID_TOKEN_SIGNING_ALG (RS256 by default, as the library's). It runs as its own process and
// reports on stdout; GET /_store shows what the library recorded in its logout store, and
// GET /_logged_out?sid=&sub= asks the library's own isLoggedOut hook about a session with those
// ID token claims.
'use strict';
const http = require('node:http');
const express = require('express');
const { auth } = require('express-openid-connect');
const { get: getConfig } = require('express-openid-connect/lib/config');
const isLoggedOut = require('express-openid-connect/lib/hooks/backchannelLogout/isLoggedOut');

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
  const params = {
    issuerBaseURL: process.env.ISSUER_BASE_URL,
    baseURL: `http://127.0.0.1:${port}`,
    clientID: process.env.CLIENT_ID,
    secret: 'a-long-enough-cookie-secret-for-this-test-app',
    authRequired: false,
    idpLogout: false,
    backchannelLogout: { store },
    ...(process.env.ID_TOKEN_SIGNING_ALG ? { idTokenSigningAlg: process.env.ID_TOKEN_SIGNING_ALG } : {}),
  };
  app.use(auth(params));
  app.get('/_store', (_req, res) => res.json([...entries.keys()].sort()));
  // The configuration as the middleware derives it, for the library's hook (which discovers the issuer itself).
  const config = getConfig(params);
  app.get('/_logged_out', (req, res, next) => {
    const idTokenClaims = { sid: req.query.sid || undefined, sub: req.query.sub || undefined };
    isLoggedOut({ oidc: { idTokenClaims } }, config).then((loggedOut) => res.json({ loggedOut }), next);
  });
  process.stdout.write(`LISTENING ${port}\n`);
});
