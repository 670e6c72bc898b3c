import type { ChannelCredentials, ServiceError } from '@grpc/grpc-js';
import { PROTOCOL_VERSION } from '../../src/core/version.js';
import {
  AgentGatewayClient,
  type AgentHello,
  type ConnectResponse,
} from '../../src/gen/switchyard/v1/agent_gateway.js';

/** A hello as a raw client sends it: empty fields unless `over` sets them. */
export function agentHello(over: Partial<AgentHello> = {}): AgentHello {
  return {
    protocolVersion: PROTOCOL_VERSION,
    serverId: 'probe',
    hostname: 'probe',
    name: '',
    addresses: [],
    mac: '',
    labels: {},
    location: '',
    agentVersion: 'test',
    advertiseAddress: '',
    transferAddress: '',
    ...over,
  };
}

/** A raw agent session (TLS as given) that says `h` (what a broken or hostile agent sends); resolves with the replies and the error it ended with. */
export async function refusedHello(
  address: string,
  h: AgentHello,
  tls: ChannelCredentials,
): Promise<{ replies: ConnectResponse[]; err: ServiceError }> {
  const client = new AgentGatewayClient(address, tls);
  const call = client.connect();
  const replies: ConnectResponse[] = [];
  call.on('data', (r: ConnectResponse) => replies.push(r));
  const ended = new Promise<ServiceError>((res) => call.on('error', res));
  call.write({ msg: { $case: 'hello', value: h } });
  const err = await ended;
  client.close();
  return { replies, err };
}
