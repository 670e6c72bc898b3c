// Opens the dashboard on the fixture fleet in the real terminal, with live samples, to look
// at it by eye (tmux, SSH, NO_COLOR=1, LANG=C). Build, then:
//   node <out>/test/tui/demo.js [servers]      (no argument: the three-host fixture)
import { startDashboard } from '../../src/tui/dashboard.js';
import { HOSTS, largeFleet, makeSample, sampleFleet, type HostSpec } from './fleet-fixture.js';

const count = Number(process.argv[2] ?? 0);
const fleet = count > 0 ? largeFleet(count) : sampleFleet();
// The online hosts keep reporting, with the seeds sampleFleet() gave their history.
const live: [HostSpec, number][] = count > 0 ? [] : [[HOSTS.a100, 1], [HOSTS.t4, 3]];

let t = 200;
const ticker = setInterval(() => {
  t++;
  for (const [spec, seed] of live) fleet.record(spec.id, makeSample(spec, t, Date.now(), seed));
}, 1000);

startDashboard({
  source: fleet,
  onQuit: () => {
    clearInterval(ticker);
    process.exit(0);
  },
});
