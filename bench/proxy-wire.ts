// What the proxy benchmark's client and backend say to each other, through whatever sits between
// them. The first byte of a connection picks what the backend does with the rest.

/** Sink: the backend counts what follows and reports the count every REPORT_MS (see SinkReport). */
export const SINK = 0x53;
/** Echo: the backend writes back every byte that follows. */
export const ECHO = 0x45;

/**
 * A sink's report: bytes received so far on this connection (u64 BE), then when it counted them
 * (process.hrtime.bigint(), u64 BE: the monotonic clock every process on the host shares). Rates
 * come from the backend's own counts and clock, so no buffer between client and backend skews them.
 */
export const REPORT_BYTES = 16;
export const REPORT_MS = 100;

/** One request (and one response) of the latency measurements. */
export const MESSAGE_BYTES = 64;
/** One write of the throughput measurement. */
export const CHUNK_BYTES = 64 * 1024;

/** Longest one phase on one path may take before the client counts it as failed. */
export const PHASE_LIMIT_MS = 60_000;
