// Checkpoints are plain tar exactly as packStateDir writes it, and nothing else is read:
// node-tar gunzips (or un-zstds) anything that merely starts like a compressed file, and a
// small compressed archive can cost minutes of CPU before any of our limits applies. Every
// archive an agent writes begins with the ustar header of the state dir itself, "./".

export const TAR_BLOCK = 512;

/** Leading bytes of the formats someone might send instead, to name them in the error. */
const COMPRESSED: [format: string, magic: number[]][] = [
  ['gzip', [0x1f, 0x8b]],
  ['zstd', [0x28, 0xb5, 0x2f, 0xfd]],
  ['bzip2', [0x42, 0x5a, 0x68]],
  ['xz', [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]],
  ['lz4', [0x04, 0x22, 0x4d, 0x18]],
];

const NAME = { at: 0, len: 100 };
const CHECKSUM = { at: 148, len: 8 };
const TYPEFLAG = 156; // '5': a directory
const MAGIC = { at: 257, text: 'ustar\u000000' };
const PREFIX = { at: 345, len: 155 };

export interface NotOurs {
  /** gzip, zstd, …, or "unknown". */
  format: string;
  /** What is wrong, to follow "checkpoint FILE". */
  why: string;
}

/** Why `first` (up to the first 512 bytes of a file) does not start a checkpoint we wrote; undefined when it does. */
export function notOurTar(first: Buffer): NotOurs | undefined {
  for (const [format, magic] of COMPRESSED) {
    if (first.length >= magic.length && magic.every((b, i) => first[i] === b))
      return { format, why: `is ${format}-compressed` };
  }
  if (first.length < TAR_BLOCK)
    return { format: 'unknown', why: `is ${first.length} bytes long, shorter than one tar header` };
  if (first.toString('latin1', MAGIC.at, MAGIC.at + MAGIC.text.length) !== MAGIC.text)
    return { format: 'unknown', why: 'is not a ustar tar archive' };
  if (!checksumValid(first)) return { format: 'unknown', why: 'has a damaged first tar header (bad checksum)' };
  const name = first.subarray(NAME.at, NAME.at + NAME.len);
  const rootName = name.toString('latin1', 0, 2) === './' && name.subarray(2).every((b) => b === 0);
  const noPrefix = first.subarray(PREFIX.at, PREFIX.at + PREFIX.len).every((b) => b === 0);
  if (!rootName || !noPrefix || first[TYPEFLAG] !== 0x35) {
    return { format: 'unknown', why: 'does not begin with the state dir ("./") as Switchyard agents write it' };
  }
  return undefined;
}

/** The header checksum: every byte summed, the checksum field counted as spaces. */
function checksumValid(block: Buffer): boolean {
  const stored = parseInt(block.toString('latin1', CHECKSUM.at, CHECKSUM.at + CHECKSUM.len).replace(/[\0 ]+$/, ''), 8);
  let sum = 0;
  for (let i = 0; i < TAR_BLOCK; i++) sum += i >= CHECKSUM.at && i < CHECKSUM.at + CHECKSUM.len ? 0x20 : block[i]!;
  return sum === stored;
}
