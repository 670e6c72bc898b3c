import type { Server } from '@grpc/grpc-js';
import type { PackageDefinition } from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';
import { DESCRIPTOR_SET_BASE64 } from '../../gen/switchyard/v1/descriptor_set.js';

/** The FileDescriptorProtos of a FileDescriptorSet (field 1, repeated). */
function filesOf(set: Uint8Array): Uint8Array[] {
  const reader = new BinaryReader(set);
  const files: Uint8Array[] = [];
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    if (field === 1 && wireType === WireType.LengthDelimited) files.push(reader.bytes());
    else reader.skip(wireType);
  }
  return files;
}

/**
 * Server reflection (so `buf curl` and grpcurl work) over the descriptors buf compiled from
 * proto/ and the health service's proto. @grpc/reflection reads nothing of the definitions it
 * is given but their `fileDescriptorProtos`, so one entry carries them all.
 */
export function addReflection(server: Server): void {
  const fileDescriptorProtos = filesOf(Buffer.from(DESCRIPTOR_SET_BASE64, 'base64')).map((f) => Buffer.from(f));
  const descriptors = {
    format: 'Protocol Buffer 3 DescriptorProto',
    type: {},
    fileDescriptorProtos,
    serialize: () => Buffer.alloc(0),
    deserialize: () => ({}),
  };
  const pkg: PackageDefinition = { descriptors } as PackageDefinition;
  new ReflectionService(pkg).addToServer(server);
}
