// What the proxy benchmark's step hands its client process, and what the client reports back.

export interface PathPlan {
  name: string;
  address: string;
  /** The process between client and backend, whose CPU the throughput turns report. */
  proxyPid?: number;
}

export interface ClientPlan {
  paths: PathPlan[];
  backendPid: number;
  streams: number;
  warmupS: number;
  /** Seconds of throughput measured per path, in one-second turns that go round the paths. */
  seconds: number;
  roundTrips: number;
  warmupRoundTrips: number;
  connects: number;
  warmupConnects: number;
  /** Turns the round trips and the new connections are split into. */
  rounds: number;
}

/** CPU over the measured turns, percent of one core. */
export interface Throughput {
  mbPerS: number;
  /** Each turn's rate, to show how steady it was. */
  turnsMbPerS: number[];
  windowS: number;
  proxyCpuPct?: number;
  backendCpuPct: number;
  clientCpuPct: number;
  /** The whole machine (context: were other processes busy?). */
  machineBusyPct: number;
  /** Of which softirq: on loopback mostly the kernel carrying the bench's own packets. */
  softirqPct: number;
}

/** Microseconds. */
export interface Latency {
  n: number;
  p50: number;
  p99: number;
  p999: number;
  max: number;
  /** CPU the proxy spent per round trip (or per connection), from /proc over the kept samples. */
  proxyCpuUs?: number;
}

export interface PathReport {
  name: string;
  throughput?: Throughput;
  persistent?: Latency;
  fresh?: Latency;
  /** The first thing that went wrong on this path; its later measurements are skipped. */
  error?: string;
}

export interface ClientReport {
  paths: PathReport[];
}
