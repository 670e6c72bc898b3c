import { it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { sampleFleet } from './fleet-fixture.js';
import { KEY, openHeadless } from './harness.js';

it('peek', async () => {
  const fleet = sampleFleet();
  const h = openHeadless(fleet, { cols: 80, rows: 24 });
  await h.press('w', 'j', 'j', 'j', 'm');
  const target = await h.waitFor('hosts can take it');
  await h.press(KEY.enter, KEY.enter);
  await h.waitFor('Every check');
  await h.press(KEY.enter, 'y');
  await h.waitFor('▶ progress');
  fleet.coordinator.complete(fleet.migrations()[0]!.id);
  const result = await h.waitFor('committed:');
  writeFileSync('/tmp/yard/captures.txt', `${target}\n\n${result}\n`);
  h.close();
});
