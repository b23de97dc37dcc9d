// The status socket's protocol: one JSON request line in, one JSON answer line out, then the server closes.
import type { AgentStatus } from './types.js';

export interface StatusRequest {
  type: 'status';
}

export type StatusAnswer = { ok: true; status: AgentStatus } | { ok: false; error: string };

export const MAX_REQUEST_BYTES = 4096;
