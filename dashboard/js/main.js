/**
 * The bigbrotr dashboard: native ES modules, no build step, no framework. Chart.js 4 (UMD build,
 * global `Chart`) is loaded by a classic script before the modules.
 *
 * Everything the API returns is untrusted (relays write it): it reaches the page only as text nodes
 * and attribute values (`h()` in dom.js), never as HTML, and only links the dashboard builds itself.
 *
 * Modules: router.js picks the page (pages/), which lays out its cards and fills them through
 * load.js (api.js, errors to banner.js) with parts/, widgets.js, charts.js and format.js.
 */
import { reportUncaught } from './banner.js';
import { route } from './router.js';

reportUncaught();
window.addEventListener('hashchange', () => route());
route();
