import { read } from './operation.js';

/** The audit trail, newest first; `limit` 0 means every entry kept. */
export const listAudit = read({
  name: 'audit.list',
  role: 'viewer',
  act: (limit: number, { parts }) => parts.audit.list(limit),
});
