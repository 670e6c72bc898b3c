// While the dashboard owns the terminal, Node's warnings and anything printed on stderr go to
// the log: the warning that once stayed over the embedded dashboard's screen is the example.
import { Console } from 'node:console';
import { afterEach, expect, it } from 'vitest';
import { createLogger, divertStderr } from '../../src/core/log.js';

let undo: (() => void) | undefined;
afterEach(() => undo?.());

it("puts Node's warnings and stray console.error lines in the log, one line each, and gives stderr back", async () => {
  const logged: string[] = [];
  const original = process.stderr.write;
  undo = divertStderr(createLogger('stderr', (l) => logged.push(l)));
  process.emitWarning('11 drain listeners added to [WriteStream]', 'MaxListenersExceededWarning');
  // A console on the process's own streams, as grpc-js's default logger uses (vitest replaces the global one).
  new Console({ stdout: process.stdout, stderr: process.stderr }).error('E No address added out of total 1 resolved');
  await new Promise((r) => setImmediate(r)); // Node prints warnings on a later tick
  process.stderr.write('half a line, ');
  undo();
  undo = undefined;
  expect(process.stderr.write).toBe(original);
  expect(logged.join('')).toMatch(
    /WARN  stderr: \(node:\d+\) MaxListenersExceededWarning: 11 drain listeners added to \[WriteStream\]\n/,
  );
  expect(logged.join('')).toMatch(/WARN  stderr: E No address added out of total 1 resolved\n/);
  expect(logged.at(-1)).toMatch(/WARN  stderr: half a line, \n$/);
});
