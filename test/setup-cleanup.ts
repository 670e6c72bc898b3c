import { afterAll } from 'vitest';
import { removeTempDirs } from './helpers/procs.js';

// Registered before a file's own hooks, so it runs after them (vitest runs after-hooks as a stack):
// the file has stopped its processes by then, and the directories they wrote go.
afterAll(() => removeTempDirs());
