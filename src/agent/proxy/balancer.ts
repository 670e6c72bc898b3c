// How a route picks the endpoint for a new connection, among those that can take one.

/** What a balancer reads of an endpoint (and, for smooth round-robin, keeps on it). */
export interface Pickable {
  readonly weight: number;
  readonly active: number;
  /** Smooth weighted round-robin's running score. */
  current: number;
}

export interface Balancer {
  /** The next endpoint, skipping those already tried for this connection; undefined when none is left. */
  pick<T extends Pickable>(candidates: readonly T[], skip: readonly object[]): T | undefined;
}

/**
 * nginx's smooth weighted round-robin: every pick adds each weight to its score, takes the
 * highest and subtracts the total from it. 75/25 gives A A B A, never A A A B: the shares hold
 * over any short run of connections.
 */
export class SmoothWeighted implements Balancer {
  pick<T extends Pickable>(candidates: readonly T[], skip: readonly object[]): T | undefined {
    let best: T | undefined;
    let total = 0;
    for (const c of candidates) {
      if (skip.length > 0 && skip.includes(c)) continue;
      c.current += c.weight;
      total += c.weight;
      if (!best || c.current > best.current) best = c;
    }
    if (best) best.current -= total;
    return best;
  }
}

/** The fewest open connections per unit of weight; ties go round-robin so idle backends share. */
export class LeastConnections implements Balancer {
  private next = 0;

  pick<T extends Pickable>(candidates: readonly T[], skip: readonly object[]): T | undefined {
    const n = candidates.length;
    let best: T | undefined;
    let bestAt = 0;
    for (let i = 0; i < n; i++) {
      const at = (this.next + i) % n;
      const c = candidates[at]!;
      if (skip.length > 0 && skip.includes(c)) continue;
      // active/weight < best.active/best.weight, without dividing.
      if (!best || c.active * best.weight < best.active * c.weight) {
        best = c;
        bestAt = at;
      }
    }
    this.next = bestAt + 1;
    return best;
  }
}
