// The rules an archive's entries must pass before each is written: a checkpoint comes from
// another host, so every path, link and size is checked as the entry streams past, against a
// tree of what came before it (memory grows with the entry count, which is capped, never with
// the archive's bytes). Only symlink targets wait for the whole listing: a link is safe or
// unsafe given the other links it may pass through, and a symlink is harmless on disk as long
// as nothing is written through it (which add() refuses).

/** What the checks need to know about one archive entry. */
export interface EntryFacts {
  path: string;
  /** node-tar's type name: File, Directory, SymbolicLink, Link, FIFO, CharacterDevice, … */
  type: string;
  size: number;
  mode?: number;
  linkpath?: string;
}

/** The first rule an archive broke: the entry and why. */
export class EntryViolation extends Error {
  constructor(
    readonly entry: string,
    readonly reason: string,
  ) {
    super(`entry "${entry}" ${reason}`);
    this.name = 'EntryViolation';
  }
}

export const MAX_ENTRIES = 100_000;
/** Linux's PATH_MAX: a longer path could not be written anyway. */
const MAX_PATH_BYTES = 4096;
// Symlinks resolved through other symlinks: more hops than this is a loop (Linux allows 40).
const MAX_LINK_HOPS = 40;
const FILE_TYPES = new Set(['File', 'OldFile', 'ContiguousFile']);
const SETID_BITS = 0o6000;

/** What an accepted entry becomes on disk, with its path relative to the state dir. */
export type Accepted =
  | { kind: 'dir'; rel: string }
  | { kind: 'file'; rel: string }
  | { kind: 'symlink'; rel: string; target: string }
  | { kind: 'hardlink'; rel: string; targetRel: string };

type Kind = Accepted['kind'];

interface Node {
  kind: Kind;
  /** A directory made only because a later path runs through it. */
  implicit?: boolean;
  /** The entry's path as the archive spelled it, for messages. */
  path: string;
  /** A symlink's target. */
  target?: string;
  children?: Map<string, Node>;
}

/** Relative, `.`-free segments of an archive path ('' and './' are the root). */
function segments(path: string): string[] {
  return path.split('/').filter((s) => s !== '' && s !== '.');
}

/** One entry at a time through add(), then finish() for what needs the whole listing. */
export class EntryCheck {
  private count = 0;
  private bytes = 0;
  private files = 0;
  private readonly root: Node = { kind: 'dir', implicit: true, path: './', children: new Map() };
  private readonly symlinks: { path: string; dir: string[]; target: string }[] = [];

  constructor(
    private readonly maxBytes: number,
    private readonly maxEntries = MAX_ENTRIES,
  ) {}

  /** Checks one entry against every rule and what came before it; throws EntryViolation. */
  add(e: EntryFacts): Accepted {
    if (++this.count > this.maxEntries)
      throw new EntryViolation(e.path, `is past the limit of ${this.maxEntries} entries`);
    const segs = this.relative(e.path, e.path, 'its path');
    const rel = segs.join('/');
    if (FILE_TYPES.has(e.type)) {
      this.addFile(e);
      this.place(e, segs, 'file');
      return { kind: 'file', rel };
    }
    if (e.type === 'Directory') {
      this.place(e, segs, 'dir');
      return { kind: 'dir', rel };
    }
    if (e.type === 'SymbolicLink') {
      const target = e.linkpath ?? '';
      if (target === '' || target.startsWith('/'))
        throw new EntryViolation(
          e.path,
          `is a symlink to "${target}"; only relative links inside the state dir are allowed`,
        );
      this.place(e, segs, 'symlink', target);
      this.symlinks.push({ path: e.path, dir: segs.slice(0, -1), target });
      return { kind: 'symlink', rel, target };
    }
    if (e.type === 'Link') {
      const targetSegs = this.relative(e.path, e.linkpath ?? '', 'its hardlink target');
      if (this.find(targetSegs)?.kind !== 'file')
        throw new EntryViolation(
          e.path,
          `is a hardlink to "${e.linkpath ?? ''}", which is not a file earlier in the archive`,
        );
      this.place(e, segs, 'hardlink');
      return { kind: 'hardlink', rel, targetRel: targetSegs.join('/') };
    }
    throw new EntryViolation(e.path, `is a ${e.type}; only files, directories and links may be in a checkpoint`);
  }

  /** Checks every symlink against the whole listing; returns what the archive holds. */
  finish(): { files: number; bytes: number } {
    for (const { path, dir, target } of this.symlinks) {
      if (this.resolveInside(dir, target, { hops: 0 }) === undefined) {
        throw new EntryViolation(path, `is a symlink to "${target}", which leads outside the state dir`);
      }
    }
    return { files: this.files, bytes: this.bytes };
  }

  private addFile(e: EntryFacts): void {
    if (((e.mode ?? 0) & SETID_BITS) !== 0) throw new EntryViolation(e.path, 'is setuid or setgid');
    this.files++;
    this.bytes += e.size;
    if (this.bytes > this.maxBytes)
      throw new EntryViolation(e.path, `takes the unpacked size past the limit of ${this.maxBytes} bytes`);
  }

  /**
   * Puts the entry into the tree. Every directory on its way must be a directory: a symlink
   * there would carry the write out of the state dir, and a path turned into a symlink after
   * something was written beneath it is refused for the same reason.
   */
  private place(e: EntryFacts, segs: string[], kind: Kind, target?: string): void {
    let at = this.root;
    for (const seg of segs.slice(0, -1)) {
      at.children ??= new Map();
      let next = at.children.get(seg);
      if (!next) {
        next = { kind: 'dir', implicit: true, path: seg };
        at.children.set(seg, next);
      }
      if (next.kind === 'symlink')
        throw new EntryViolation(e.path, `would be written through the symlink "${next.path}"`);
      if (next.kind !== 'dir')
        throw new EntryViolation(e.path, `would be written inside "${next.path}", which is not a directory`);
      at = next;
    }
    const last = segs[segs.length - 1];
    const was = last === undefined ? this.root : at.children?.get(last);
    if (was && !(was.implicit && kind === 'dir')) {
      if (last === undefined && kind !== 'dir')
        throw new EntryViolation(e.path, `is a ${e.type} in place of the state dir itself`);
      throw new EntryViolation(
        e.path,
        was.implicit ? `is a ${e.type} where earlier entries need a directory` : 'appears twice',
      );
    }
    if (was) {
      was.implicit = false;
      was.path = e.path;
      return;
    }
    at.children ??= new Map();
    at.children.set(last!, { kind, path: e.path, target });
  }

  private find(segs: string[]): Node | undefined {
    let at: Node | undefined = this.root;
    for (const seg of segs) at = at?.kind === 'dir' ? at.children?.get(seg) : undefined;
    return at;
  }

  /** The segments of `path`, refusing absolute paths, any `..` and over-long paths. */
  private relative(entry: string, path: string, what: string): string[] {
    if (path.startsWith('/')) throw new EntryViolation(entry, `has an absolute path in ${what} ("${path}")`);
    if (Buffer.byteLength(path) > MAX_PATH_BYTES)
      throw new EntryViolation(entry, `has ${what} longer than ${MAX_PATH_BYTES} bytes`);
    const segs = segments(path);
    if (segs.includes('..')) throw new EntryViolation(entry, `has ".." in ${what} ("${path}")`);
    return segs;
  }

  /**
   * Where `target`, read from directory `from`, ends up once every symlink of the archive on
   * the way is followed; undefined when it leaves the root or loops. `..` after a followed link
   * climbs from where the link leads, as the kernel does.
   */
  private resolveInside(from: string[], target: string, budget: { hops: number }): string[] | undefined {
    if (target.startsWith('/')) return undefined;
    let at = [...from];
    for (const seg of segments(target)) {
      if (seg === '..') {
        if (at.length === 0) return undefined;
        at.pop();
        continue;
      }
      at.push(seg);
      const node = this.find(at);
      if (node?.kind !== 'symlink') continue;
      if (++budget.hops > MAX_LINK_HOPS) return undefined;
      at.pop();
      const next = this.resolveInside(at, node.target!, budget);
      if (next === undefined) return undefined;
      at = next;
    }
    return at;
  }
}
