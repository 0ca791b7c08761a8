import fs from 'node:fs';
import path from 'node:path';
import type { DynamicModule } from '@nestjs/common';
import { ServeStaticModule } from '@nestjs/serve-static';

/**
 * Every GET path the dashboard's index.html fallback answers: all but the API's own (routes,
 * documents, probes, mail client autoconfiguration) and /assets, so an unknown API path or a
 * missing asset stays a problem+json 404. A pattern rather than serve-static's `exclude` list:
 * on Express that list also turns every error of an excluded path (malformed JSON, say) into a 404.
 */
export const DASHBOARD_PATHS =
  /^\/(?!(?:v1|docs|openapi\.json|health|metrics|\.well-known|mail|autodiscover|assets)(?:\/|$))/i;

/** dist/web of the checkout: `npm run build` writes it (apps/web), from source or from dist. */
export function webRoot(from: string = __dirname): string | null {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json'))) {
      const root = path.join(dir, 'dist', 'web');
      return fs.existsSync(path.join(root, 'index.html')) ? root : null;
    }
    if (path.dirname(dir) === dir) return null;
  }
}

/**
 * The dashboard (apps/web, built) at `/`: its files, and index.html for every other GET that is
 * not an API path, so /mailboxes or /domains open from a link or a reload. Registered through
 * @nestjs/serve-static, which has loaders for both Express and Fastify, after every API route
 * (it registers in onModuleInit). Without a build (dist/web/index.html), nothing is served.
 */
export function webDashboardModules(
  root: string | null = webRoot(),
  adapter: 'express' | 'fastify' = 'express',
): DynamicModule[] {
  if (!root) return [];
  return [
    ServeStaticModule.forRoot({
      rootPath: root,
      // Fastify's router takes no RegExp and prefers every exact route to a wildcard, so there
      // the fallback is '*' (an unknown /v1 path then gets index.html: check it when switching).
      renderPath: adapter === 'express' ? DASHBOARD_PATHS : '*',
      serveStaticOptions: {
        index: false,
        // Hashed asset names change with their content; index.html is asked again each time.
        setHeaders: (res: { setHeader(name: string, value: string): void }, file: string) => {
          const immutable = file.includes(`${path.sep}assets${path.sep}`);
          res.setHeader('Cache-Control', immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
          res.setHeader('X-Content-Type-Options', 'nosniff');
        },
      },
    }),
  ];
}
