import { EventEmitter } from 'node:events';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Metadata } from '@grpc/grpc-js';
import { admit, localAuth } from '../../src/controller/grpc/auth.js';
import { control, SAMPLE_BATCH_MS } from '../../src/controller/grpc/control.js';
import type { ServiceParts } from '../../src/controller/service/parts.js';
import { ControllerService } from '../../src/controller/service/service.js';
import { Registry } from '../../src/controller/registry.js';
import type { AgentHello } from '../../src/gen/switchyard/v1/agent_gateway.js';
import type { WatchFleetResponse } from '../../src/gen/switchyard/v1/control.js';
import { HOSTS, makeSample } from '../tui/fleet-fixture.js';

function hello(id: string): AgentHello {
  return {
    protocolVersion: 1,
    serverId: id,
    hostname: `${id}.local`,
    name: id,
    addresses: ['10.0.0.1'],
    mac: 'aa:bb:cc:dd:ee:ff',
    labels: {},
    location: '',
    agentVersion: '0.1.0',
    advertiseAddress: '',
    transferAddress: '',
  };
}

/** A WatchFleet stream's server end: it records what the handler writes, and when. */
class RecordingCall extends EventEmitter {
  readonly metadata = new Metadata();
  readonly written: { at: number; event: string; serverId?: string }[] = [];
  write(msg: WatchFleetResponse): boolean {
    const e = msg.event;
    this.written.push({
      at: Date.now(),
      event: e?.$case ?? '?',
      serverId: e?.$case === 'sample' ? e.value.serverId : e?.$case === 'server' ? e.value.id : undefined,
    });
    return true;
  }
}

describe('WatchFleet sends host samples in batches', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  function watch(hosts: number) {
    const registry = new Registry({ heartbeatTtlMs: 3000, graceMs: 10_000 });
    const sessions = Array.from({ length: hosts }, (_, i) => {
      const session = Symbol(`h${i}`);
      registry.connect(hello(`h${i}`), session);
      return session;
    });
    const events = () => Object.assign(new EventEmitter(), { list: () => [] });
    const service = new ControllerService({
      registry,
      workloads: events(),
      coordinator: events(),
      router: events(),
      audit: events(),
    } as unknown as ServiceParts);
    const api = control({ service });
    const call = new RecordingCall();
    admit(localAuth, '/switchyard.v1.Control/WatchFleet', call.metadata);
    api.watchFleet(call as never);
    call.written.length = 0;
    const beat = (i: number, t: number) =>
      registry.heartbeat(`h${i}`, sessions[i]!, [makeSample(HOSTS.a100, t, Date.now())]);
    return { registry, call, beat, sessions };
  }

  it('holds the samples of many hosts and writes them together, in the order they came', () => {
    const { call, beat } = watch(100);
    const start = Date.now();
    // 100 hosts, their beats spread over one second.
    for (let i = 0; i < 100; i++) {
      beat(i, 1);
      vi.advanceTimersByTime(10);
    }
    vi.advanceTimersByTime(SAMPLE_BATCH_MS);
    const samples = call.written.filter((w) => w.event === 'sample');
    expect(samples.map((w) => w.serverId)).toEqual(Array.from({ length: 100 }, (_, i) => `h${i}`));
    // A few writes a second instead of one per host: the watcher wakes up that many times.
    const moments = new Set(samples.map((w) => w.at));
    expect(moments.size).toBeLessThanOrEqual(Math.ceil(1000 / SAMPLE_BATCH_MS) + 1);
    // None waits longer than one batch.
    expect(Math.max(...samples.map((w, i) => w.at - (start + i * 10)))).toBeLessThanOrEqual(SAMPLE_BATCH_MS);
  });

  it('sends held samples before any other event, so a host never goes back in time', () => {
    const { registry, call, beat, sessions } = watch(2);
    beat(0, 1);
    beat(1, 1);
    expect(call.written).toEqual([]);
    registry.disconnect('h1', sessions[1]!);
    expect(call.written.map((w) => `${w.event} ${w.serverId}`)).toEqual(['sample h0', 'sample h1', 'server h1']);
  });

  it('sends one message per server per batch, with the samples its beats carried in order', () => {
    const { registry, call, sessions } = watch(2);
    const messages: WatchFleetResponse[] = [];
    const write = call.write.bind(call);
    call.write = (msg) => {
      messages.push(msg);
      return write(msg);
    };
    // A slow beat carries three samples; the other host beats twice in the batch.
    registry.heartbeat(
      'h0',
      sessions[0]!,
      [1, 2, 3].map((t) => makeSample(HOSTS.a100, t, 1000 * t)),
    );
    registry.heartbeat('h1', sessions[1]!, [makeSample(HOSTS.a100, 1, 1000)]);
    registry.heartbeat('h1', sessions[1]!, [makeSample(HOSTS.a100, 2, 2000)]);
    vi.advanceTimersByTime(SAMPLE_BATCH_MS);
    const sent = messages.flatMap((m) => (m.event?.$case === 'sample' ? [m.event.value] : []));
    expect(sent.map((v) => v.serverId)).toEqual(['h0', 'h1']);
    const times = (v: (typeof sent)[number]) => [...v.earlier, v.sample!].map((x) => x.timestampMs);
    expect(sent.map(times)).toEqual([
      [1000, 2000, 3000],
      [1000, 2000],
    ]);
  });

  it('stops holding when the watcher goes', () => {
    const { call, beat } = watch(1);
    beat(0, 1);
    call.emit('cancelled');
    vi.advanceTimersByTime(SAMPLE_BATCH_MS * 2);
    expect(call.written).toEqual([]);
  });
});
