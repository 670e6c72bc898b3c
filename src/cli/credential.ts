// Placeholder until the access branch lands its full reader (same exports).
import { readFile } from 'node:fs/promises';
import { YardError, errorMessage } from '../core/errors.js';

export interface Credential {
  name: string;
  role: string;
  controller: string;
  notAfter: string;
  certificate: string;
  key: string;
  ca: string;
}

export async function readCredential(file: string): Promise<Credential> {
  const text = await readFile(file, 'utf8').catch((err: unknown) => {
    throw new YardError('INVALID_ARGUMENT', `credential file ${file} cannot be read: ${errorMessage(err)}`);
  });
  return JSON.parse(text) as Credential;
}
