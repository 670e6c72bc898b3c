import { describe, expect, it } from 'vitest';
import { Registry } from '../../src/controller/registry.js';
import { stateName, type Server } from '../../src/core/types.js';
import type { AgentHello } from '../../src/gen/switchyard/v1/agent_gateway.js';

function hello(id: string, name = id): AgentHello {
  return {
    protocolVersion: 1,
    serverId: id,
    hostname: `${name}.local`,
    name,
    addresses: ['10.0.0.1'],
    mac: 'aa:bb:cc:dd:ee:ff',
    labels: { rack: 'r1' },
    location: '',
    agentVersion: '0.1.0',
    advertiseAddress: '',
    transferAddress: '',
  };
}

function setup() {
  let now = 1_000_000;
  const reg = new Registry({ heartbeatTtlMs: 3000, graceMs: 10_000, now: () => now });
  const events: string[] = [];
  reg.on('server', (s: Server) => events.push(`${s.name}:${stateName(s.state)}`));
  return {
    reg,
    events,
    advance: (ms: number) => {
      now += ms;
      reg.tick();
    },
  };
}

describe('Registry', () => {
  it('walks online → degraded → online → disconnected → down by the clock', () => {
    const { reg, events, advance } = setup();
    const session = Symbol();
    reg.connect(hello('a'), session);
    advance(3500);
    expect(events.at(-1)).toBe('a:degraded');
    reg.heartbeat('a', session, []);
    expect(events.at(-1)).toBe('a:online');
    reg.disconnect('a', session);
    expect(events.at(-1)).toBe('a:disconnected');
    advance(9000);
    expect(stateName(reg.get('a')!.server.state)).toBe('disconnected');
    advance(2000);
    expect(events).toEqual(['a:online', 'a:degraded', 'a:online', 'a:disconnected', 'a:down']);
  });

  it('counts a host whose nvidia-smi fails or hangs as degraded, and one without nvidia-smi as online', () => {
    const { reg, events } = setup();
    const session = Symbol();
    reg.connect(hello('a'), session);
    const sample = (state: string, message = '') => ({
      timestampMs: 1,
      cpuPct: 1,
      cpuPerCorePct: [],
      load1: 0,
      load5: 0,
      load15: 0,
      memoryTotalBytes: 1,
      memoryUsedBytes: 0,
      swapTotalBytes: 0,
      swapUsedBytes: 0,
      disks: [],
      nets: [],
      netRxBytesPerSec: 0,
      netTxBytesPerSec: 0,
      gpus: [],
      gpuStatus: { state, sinceMs: 5, message },
    });
    reg.heartbeat('a', session, [sample('absent')]);
    expect(stateName(reg.get('a')!.server.state)).toBe('online');
    reg.heartbeat('a', session, [
      sample('failing', "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver"),
    ]);
    expect(stateName(reg.get('a')!.server.state)).toBe('degraded');
    reg.heartbeat('a', session, [sample('stuck', 'did not answer')]);
    expect(stateName(reg.get('a')!.server.state)).toBe('degraded');
    reg.heartbeat('a', session, [sample('ok')]);
    expect(events).toEqual(['a:online', 'a:degraded', 'a:online']);
  });

  it('treats a reconnect with the same id as the same server, never a duplicate', () => {
    const { reg } = setup();
    const s1 = Symbol();
    reg.connect(hello('a'), s1);
    const firstSeen = reg.get('a')!.server.firstSeenMs;
    reg.disconnect('a', s1);
    const { superseded } = reg.connect(hello('a', 'renamed'), Symbol());
    expect(superseded).toBeUndefined();
    expect(reg.size).toBe(1);
    expect(reg.get('a')!.server.name).toBe('renamed');
    expect(reg.get('a')!.server.firstSeenMs).toBe(firstSeen);
    expect(stateName(reg.get('renamed')!.server.state)).toBe('online');
  });

  it('ignores the end of a superseded session', () => {
    const { reg } = setup();
    const old = Symbol();
    const fresh = Symbol();
    reg.connect(hello('a'), old);
    expect(reg.connect(hello('a'), fresh).superseded).toBe(old);
    reg.disconnect('a', old);
    reg.heartbeat('a', old, []);
    expect(stateName(reg.get('a')!.server.state)).toBe('online');
  });

  it('lists servers restored from the store as unknown, then down after the grace', () => {
    const { reg, events, advance } = setup();
    reg.restore({
      id: 'b',
      name: 'b',
      hostname: 'b',
      addresses: [],
      mac: '',
      labels: {},
      location: '',
      agentVersion: '',
      advertiseAddress: '',
      transferAddress: '',
      cordoned: false,
      firstSeenMs: 5,
      lastSeenMs: 7,
    });
    expect(stateName(reg.get('b')!.server.state)).toBe('unknown');
    expect(reg.get('b')!.server.lastSeenMs).toBe(7);
    advance(11_000);
    expect(events).toEqual(['b:down']);
  });
});
