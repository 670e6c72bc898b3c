import { savedStateStrategy } from './checkpoint.js';

/**
 * For workloads that cannot save themselves: the agent stops the whole process group
 * (SIGSTOP), archives the state dir as it was when frozen, and the move goes on as a checkpoint's.
 */
export const freeze = savedStateStrategy({ freeze: true });
