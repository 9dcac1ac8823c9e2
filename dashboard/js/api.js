/** The JSON API client: every answer must be a JSON object; anything else is an `ApiError`. */
import { isObject } from './format.js';

export class ApiError extends Error {
  constructor(path, status, body, cause) {
    const detail = isObject(body) && typeof body.message === 'string' ? body.message : (cause ?? 'unexpected answer');
    super(`${status ? `HTTP ${status}` : 'network error'}: ${detail}`);
    this.path = path;
    this.status = status;
    this.body = body;
  }
}

export async function api(path, signal) {
  let response;
  try {
    response = await fetch(path, { headers: { accept: 'application/json' }, signal });
  } catch (error) {
    throw new ApiError(path, 0, null, error instanceof Error ? error.message : String(error));
  }
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  if (!response.ok || !isObject(body))
    throw new ApiError(path, response.status, body, response.ok ? 'the answer is not a JSON object' : undefined);
  return body;
}

/** A paged list with `limit`; if the server caps pages lower (400 on limit), its default page size. */
export async function apiPage(path, params, signal) {
  try {
    return await api(`${path}?${params}`, signal);
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 400 || error.body?.parameter !== 'limit') throw error;
    const fallback = new URLSearchParams(params);
    fallback.delete('limit');
    return api(`${path}?${fallback}`, signal);
  }
}
