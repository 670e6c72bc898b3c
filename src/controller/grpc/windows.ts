import type { Server } from '@grpc/grpc-js';
import type { Http2Server, ServerHttp2Session } from 'node:http2';

/**
 * HTTP/2 flow-control windows for checkpoint uploads. grpc-js's Server keeps HTTP/2's 64 KiB
 * defaults on both the stream and the connection, which throttles a client→server chunk stream
 * on the controller's side (bench: upload 106–128 → 152–190 MB/s with both raised; the stream
 * window alone does nothing). grpc-js (1.14) exposes neither setting on a server — its
 * 'grpc-node.flow_control_window' option is read by the client transport only — so this reaches
 * into its server. If a future version changes shape nothing breaks at run time (the windows stay
 * at their defaults), and test/unit/grpc-windows.test.ts, which reads the windows a raw HTTP/2
 * client is told, fails.
 */
export const BULK_WINDOW_BYTES = 16 * 1024 * 1024;

interface Internals {
  commonServerOptions?: { settings?: Record<string, unknown> };
  http2Servers?: Map<Http2Server, unknown>;
}

/** Before bindAsync: the per-stream window advertised to clients. */
export function raiseStreamWindow(server: Server): void {
  const s = server as unknown as Internals;
  if (s.commonServerOptions)
    s.commonServerOptions.settings = { ...s.commonServerOptions.settings, initialWindowSize: BULK_WINDOW_BYTES };
}

/** After bindAsync: each new connection's window. */
export function raiseConnectionWindow(server: Server): void {
  const s = server as unknown as Internals;
  for (const h2 of s.http2Servers?.keys() ?? []) {
    h2.on('session', (session: ServerHttp2Session) => session.setLocalWindowSize(BULK_WINDOW_BYTES));
  }
}
