import { Hono } from 'hono';
import type { AppDeps, Surface } from '../webhooks/deps.ts';
import { consoleApi } from './api.ts';
import { consoleAuth } from './auth.ts';
import { consoleCommands } from './commands.ts';
import { consoleGuard } from './guard.ts';
import { consolePages } from './pages.tsx';

/**
 * The web console: a surface of its own (people, not platforms, call it), mounted at
 * `/console` by the entry points beside the webhooks: its pages, its JSON API and its
 * command box (the console as a chat platform).
 */
export const consoleSurface: Surface = {
  path: '/console',
  routes(deps: AppDeps) {
    const app = new Hono();
    // Every console route: who may reach it, which Host and Origin it answers (console/guard.ts).
    app.use('*', consoleGuard(deps));
    app.route('/auth', consoleAuth(deps));
    app.route('/api/commands', consoleCommands(deps));
    app.route('/api', consoleApi(deps));
    app.route('/', consolePages(deps));
    return app;
  },
};
