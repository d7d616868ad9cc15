import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import { NestExpressApplication } from '@nestjs/platform-express';
import type { NextFunction, Request, Response } from 'express';
import express from 'express';

/**
 * The operator console's page may load only its own script and stylesheet and call only this
 * gateway: a token pasted into it cannot be sent anywhere else, and no other site can frame it.
 */
const CONSOLE_HEADERS: Record<string, string> = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  // Names are not content-hashed: revalidate (ETag) on every load so a new build shows at once.
  'cache-control': 'no-cache',
};

const withHeaders = (_req: Request, res: Response, next: NextFunction) => {
  for (const [name, value] of Object.entries(CONSOLE_HEADERS)) res.setHeader(name, value);
  next();
};

/**
 * `/console`: the files `npm run build` bundled into `dir` (CONSOLE_DIR). The console is a
 * Management API client like any other: everything it shows comes from `/api/v2` with the
 * operator's token, so serving it needs no authentication of its own. Without a build, `/console`
 * says how to make one instead of a bare 404.
 */
export function serveConsole(app: NestExpressApplication, dir: string): void {
  if (!existsSync(join(dir, 'index.html'))) {
    new Logger('Console').warn(`no operator console in ${dir} (run npm run build); /console answers 503 until then`);
    app.use('/console', (_req: Request, res: Response) => {
      res.status(503).type('text/plain').send(`The operator console is not built here (${dir}). Run npm run build, then reload.\n`);
    });
    return;
  }
  app.use('/console', withHeaders, express.static(dir, { index: 'index.html', redirect: true, fallthrough: true, dotfiles: 'ignore', etag: true }));
}
