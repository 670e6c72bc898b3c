import type { GpuStatus } from '../gen/switchyard/v1/fleet.js';
import type { HostSample } from './types.js';

export type { GpuStatus };

/**
 * The GPU tooling's fault in a host's sample, if any: nvidia-smi failing or hung. On a GPU
 * fleet that is an alarm, never "a host with 0 GPUs". `absent` (no nvidia-smi) is a host
 * without GPUs, and `starting` has not had its chance yet: neither is a fault.
 */
export function gpuTrouble(sample: HostSample | undefined): GpuStatus | undefined {
  const status = sample?.gpuStatus;
  return status && (status.state === 'failing' || status.state === 'stuck') ? status : undefined;
}

/** "8× H100 80GB HBM3", or "2× A100-SXM4-40GB, 1× T4": the GPUs by model, as nvitop names them. */
export function gpuModels(names: readonly string[], times = '×'): string {
  const counts = new Map<string, number>();
  for (const name of names) {
    const model = name.replace(/^NVIDIA\s+/i, '').trim() || 'unknown GPU';
    counts.set(model, (counts.get(model) ?? 0) + 1);
  }
  return [...counts].map(([model, n]) => `${n}${times} ${model}`).join(', ');
}

/** The gist of a failure for a narrow card: without the tool's path and preamble. */
export function gpuTroubleGist(message: string): string {
  return (
    message
      .replace(/^nvidia-smi \([^)]*\) (failed|exited \([^)]*\)|could not start): /, '')
      .replace(/^nvidia-smi \(pid \d+\) /, '')
      .replace(/^NVIDIA-SMI has failed because it /i, '')
      // nvidia-smi's advice ("Make sure that the latest NVIDIA driver is installed…") is not the news.
      .replace(/\. Make sure .*$/s, '')
      .trim() || 'no message'
  );
}
