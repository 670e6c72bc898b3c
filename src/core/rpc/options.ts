import type { ChannelOptions } from '@grpc/grpc-js';

/** Largest message either side accepts; a heartbeat of a 64-GPU host is a few KiB. */
const MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

/** Server side: keepalive so dead agents are noticed; channelz off (it leaks on long streams). */
export const SERVER_OPTIONS: ChannelOptions = {
  'grpc.max_receive_message_length': MAX_MESSAGE_BYTES,
  'grpc.keepalive_time_ms': 10_000,
  'grpc.keepalive_timeout_ms': 5_000,
  'grpc.keepalive_permit_without_calls': 1,
  'grpc.http2.min_ping_interval_without_data_ms': 5_000,
  'grpc.enable_channelz': 0,
};

/** Client side: no retries (they leak on long-lived streams), no channelz, keepalive. */
export const CLIENT_OPTIONS: ChannelOptions = {
  'grpc.max_receive_message_length': MAX_MESSAGE_BYTES,
  'grpc.enable_retries': 0,
  'grpc.enable_channelz': 0,
  'grpc.keepalive_time_ms': 10_000,
  'grpc.keepalive_timeout_ms': 5_000,
  'grpc.keepalive_permit_without_calls': 1,
};
