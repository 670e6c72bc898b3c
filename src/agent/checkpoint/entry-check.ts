// The rules an archive's entries must pass before anything is written: a checkpoint comes
// from another host, so every path, link and size is checked against the whole listing
// (a link is only safe or unsafe given the other links it may pass through).

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
// Symlinks resolved through other symlinks: more hops than this is a loop (Linux allows 40).
const MAX_LINK_HOPS = 40;
const FILE_TYPES = new Set(['File', 'OldFile', 'ContiguousFile']);
const SETID_BITS = 0o6000;

/** Relative, `.`-free segments of an archive path ('' and './' are the root). */
function segments(path: string): string[] {
  return path.split('/').filter((s) => s !== '' && s !== '.');
}

/**
 * Collects entries one by one (add), then checks what needs the whole listing (finish).
 * Throws EntryViolation at the first broken rule.
 */
export class EntryCheck {
  private count = 0;
  private bytes = 0;
  private files = 0;
  private readonly seen = new Map<string, EntryFacts>();
  private readonly symlinks = new Map<string, string>();
  private readonly hardlinks: { path: string; target: string }[] = [];

  constructor(private readonly maxBytes: number) {}

  add(e: EntryFacts): void {
    if (++this.count > MAX_ENTRIES) throw new EntryViolation(e.path, `is past the limit of ${MAX_ENTRIES} entries`);
    const key = this.relative(e.path, e.path, 'its path');
    if (key === '' && e.type !== 'Directory') throw new EntryViolation(e.path, `is a ${e.type} in place of the state dir itself`);
    if (this.seen.has(key)) throw new EntryViolation(e.path, 'appears twice');
    this.seen.set(key, e);
    if (FILE_TYPES.has(e.type)) this.addFile(e);
    else if (e.type === 'SymbolicLink') this.addSymlink(e, key);
    else if (e.type === 'Link') this.hardlinks.push({ path: e.path, target: this.relative(e.path, e.linkpath ?? '', 'its hardlink target') });
    else if (e.type !== 'Directory') throw new EntryViolation(e.path, `is a ${e.type}; only files, directories and links may be in a checkpoint`);
  }

  /** Whether `e` is an entry that add() took, exactly as it was then. */
  approved(e: EntryFacts): boolean {
    const was = this.seen.get(segments(e.path).join('/'));
    return was !== undefined && was.path === e.path && was.type === e.type && was.size === e.size && was.linkpath === e.linkpath && was.mode === e.mode;
  }

  /** Checks links against the whole listing; returns what the archive holds. */
  finish(): { files: number; bytes: number } {
    for (const [key, e] of this.seen) this.notThroughSymlink(e.path, key);
    for (const [key, target] of this.symlinks) {
      if (resolveInside(segments(key).slice(0, -1), target, this.symlinks, { hops: 0 }) === undefined) {
        throw new EntryViolation(this.seen.get(key)!.path, `is a symlink to "${target}", which leads outside the state dir`);
      }
    }
    for (const { path, target } of this.hardlinks) {
      this.notThroughSymlink(path, target);
      const to = this.seen.get(target);
      if (!to || !FILE_TYPES.has(to.type)) throw new EntryViolation(path, `is a hardlink to "${target}", which is not a file in the archive`);
    }
    return { files: this.files, bytes: this.bytes };
  }

  private addFile(e: EntryFacts): void {
    if (((e.mode ?? 0) & SETID_BITS) !== 0) throw new EntryViolation(e.path, 'is setuid or setgid');
    this.files++;
    this.bytes += e.size;
    if (this.bytes > this.maxBytes) throw new EntryViolation(e.path, `takes the unpacked size past the limit of ${this.maxBytes} bytes`);
  }

  private addSymlink(e: EntryFacts, key: string): void {
    const target = e.linkpath ?? '';
    if (target === '' || target.startsWith('/')) throw new EntryViolation(e.path, `is a symlink to "${target}"; only relative links inside the state dir are allowed`);
    this.symlinks.set(key, target);
  }

  /** The entry-relative form of `path`, refusing absolute paths and any `..`. */
  private relative(entry: string, path: string, what: string): string {
    if (path.startsWith('/')) throw new EntryViolation(entry, `has an absolute path in ${what} ("${path}")`);
    const segs = segments(path);
    if (segs.includes('..')) throw new EntryViolation(entry, `has ".." in ${what} ("${path}")`);
    return segs.join('/');
  }

  private notThroughSymlink(entry: string, key: string): void {
    const segs = segments(key);
    for (let i = 1; i < segs.length; i++) {
      const prefix = segs.slice(0, i).join('/');
      if (this.symlinks.has(prefix)) throw new EntryViolation(entry, `would be written through the symlink "${prefix}"`);
    }
  }
}

/**
 * Where `target`, read from directory `from`, ends up once every symlink of the archive on the
 * way is followed; undefined when it leaves the root or loops. `..` after a followed link
 * climbs from where the link leads, as the kernel does.
 */
function resolveInside(from: string[], target: string, links: Map<string, string>, budget: { hops: number }): string[] | undefined {
  if (target.startsWith('/')) return undefined;
  let at = [...from];
  for (const seg of segments(target)) {
    if (seg === '..') {
      if (at.length === 0) return undefined;
      at.pop();
      continue;
    }
    at.push(seg);
    const link = links.get(at.join('/'));
    if (link === undefined) continue;
    if (++budget.hops > MAX_LINK_HOPS) return undefined;
    at.pop();
    const next = resolveInside(at, link, links, budget);
    if (next === undefined) return undefined;
    at = next;
  }
  return at;
}
