// The status socket's protocol: one JSON request line in, one JSON answer line out, then the server closes.
import type { AgentStatus } from './types.js';

export interface StatusRequest {
  type: 'status';
}

export type StatusAnswer = { ok: true; status: AgentStatus } | { ok: false; error: string };

export const MAX_REQUEST_BYTES = 4096;

/** The request a line holds, or why it is none. Any JSON (null, a number, an array) is a value to check. */
export function parseRequest(line: string): { request: StatusRequest } | { error: string } {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return { error: 'request is not JSON' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { error: 'request is not a JSON object' };
  const type = (value as Record<string, unknown>).type;
  if (type !== 'status') return { error: `unknown request type ${JSON.stringify(type) ?? 'undefined'}`.slice(0, 200) };
  return { request: { type } };
}
