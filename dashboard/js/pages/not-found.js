/** Any other address. */
import { h, main } from '../dom.js';

export function notFoundPage() {
  main.replaceChildren(h('h2', {}, 'Not found'), h('p', {}, 'No such page. ', h('a', { href: '#/' }, 'Back to the overview.')));
  return 'notfound';
}
