/** The error banner: what failed, in words, above the page; nothing is thrown further. */
import { ApiError } from './api.js';
import { h } from './dom.js';

const errorBox = document.getElementById('error');

export function showError(message) {
  errorBox.hidden = false;
  errorBox.append(h('p', {}, h('strong', {}, 'Error: '), message));
}

export function clearErrors() {
  errorBox.replaceChildren();
  errorBox.hidden = true;
}

export function reportError(error, what) {
  if (error?.name === 'AbortError') return;
  const message =
    error instanceof ApiError
      ? `${what ?? error.path} failed (${error.message})`
      : `${what ?? 'the dashboard'} failed: ${error instanceof Error ? error.message : String(error)}`;
  showError(message);
}

/** Uncaught errors and rejections go to the banner too. */
export function reportUncaught() {
  window.addEventListener('error', (event) => reportError(event.error ?? event.message, 'a script'));
  window.addEventListener('unhandledrejection', (event) => {
    event.preventDefault();
    reportError(event.reason, 'a background task');
  });
}
