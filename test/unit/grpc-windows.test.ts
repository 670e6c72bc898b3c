import { Server, ServerCredentials } from '@grpc/grpc-js';
import { connect, type ClientHttp2Session, type Settings } from 'node:http2';
import { afterEach, describe, expect, it } from 'vitest';
import { BULK_WINDOW_BYTES, raiseConnectionWindow, raiseStreamWindow } from '../../src/controller/grpc/windows.js';

/**
 * windows.ts reaches into grpc-js's Server (it has no option for its HTTP/2 windows). These tests
 * read what a real HTTP/2 client is told, so a grpc-js that moves those internals fails here
 * instead of silently leaving checkpoint uploads at 64 KiB windows.
 */
describe('the controller raises its HTTP/2 windows', () => {
  let server: Server | undefined;
  let client: ClientHttp2Session | undefined;
  afterEach(() => {
    client?.destroy();
    server?.forceShutdown();
  });

  async function dial(): Promise<{ settings: Settings; session: ClientHttp2Session }> {
    server = new Server();
    raiseStreamWindow(server);
    const port = await new Promise<number>((resolve, reject) =>
      server!.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) =>
        err ? reject(err) : resolve(p),
      ),
    );
    raiseConnectionWindow(server);
    const session = connect(`http://127.0.0.1:${port}`);
    client = session;
    const settings = await new Promise<Settings>((resolve, reject) => {
      session.once('remoteSettings', resolve);
      session.once('error', reject);
    });
    return { settings, session };
  }

  it('advertises a 16 MiB window for each stream', async () => {
    const { settings } = await dial();
    expect(BULK_WINDOW_BYTES).toBe(16 * 1024 * 1024);
    expect(settings.initialWindowSize).toBe(BULK_WINDOW_BYTES);
  });

  it('opens the connection window to 16 MiB', async () => {
    const { session } = await dial();
    // The connection window grows by a WINDOW_UPDATE on stream 0, which follows the settings.
    const deadline = Date.now() + 2000;
    while ((session.state.remoteWindowSize ?? 0) < BULK_WINDOW_BYTES && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 10));
    expect(session.state.remoteWindowSize).toBe(BULK_WINDOW_BYTES);
  });
});
