import { api } from './api.js';
import { reportError } from './banner.js';

/**
 * Loads one resource for the current page and hands it to `render`; a failure goes to the banner
 * (and to `fail`), never further. Answers for a page the user has left are dropped.
 *
 * `path`: an API path, or a function of the abort signal that fetches the data.
 */
export async function load(ctx, path, render, fail) {
  try {
    const data = typeof path === 'function' ? await path(ctx.signal) : await api(path, ctx.signal);
    if (ctx.stale()) return;
    render(data);
  } catch (error) {
    if (ctx.stale()) return;
    reportError(error, typeof path === 'string' ? `GET ${path}` : undefined);
    try {
      fail?.(error);
    } catch {
      // the fallback display itself failed; the banner already says what went wrong
    }
  }
}
