// A Byzantine participant is a real participant: it joins, downloads, trains and uploads through the same port
// as everyone (so the server's checks apply to it), and only the bytes of its update differ. This wraps a
// FederationApi so that `submitUpdate` sends the attack instead of the honest update.
import type { FederationApi } from '../client/federation-api.js';
import type { Task } from '../task/schema.js';
import { decodeWeights, encodeWeights } from '../weights/codec.js';
import { alie, alieZ, defaultAttackParameter, gaussianUpdate, ipm, signFlip, type UpdateAttackName } from './update-attacks.js';

/** What the attackers of one simulation share: they collude (ALIE and IPM estimate from all their honest updates). */
export class Collusion {
  readonly #size: number;
  readonly #rounds = new Map<number, { updates: Float32Array[]; ready: Promise<void>; release: () => void }>();
  readonly #waitMs: number;

  /**
   * @param size the number of attackers.
   * @param waitMs how long an attacker waits for the others' honest updates of a round before attacking with
   *   those that came (an attacker that dropped out must not stall the rest).
   */
  constructor(size: number, waitMs = 60_000) {
    this.#size = size;
    this.#waitMs = waitMs;
  }

  /** The number of attackers. */
  get size(): number {
    return this.#size;
  }

  /** Adds this attacker's honest update of `round` and resolves with every attacker's (or those in by the wait). */
  async pool(round: number, honest: Float32Array): Promise<Float32Array[]> {
    let entry = this.#rounds.get(round);
    if (!entry) {
      let release = () => {};
      const ready = new Promise<void>((resolve) => (release = resolve));
      entry = { updates: [], ready, release };
      this.#rounds.set(round, entry);
    }
    entry.updates.push(honest);
    if (entry.updates.length >= this.#size) entry.release();
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([entry.ready, new Promise<void>((resolve) => (timer = setTimeout(resolve, this.#waitMs)))]);
    clearTimeout(timer);
    return [...entry.updates];
  }
}

/** How one attacker attacks. */
export interface ByzantineOptions {
  attack: UpdateAttackName;
  /** The attack's strength (`defaultAttackParameter` when absent; for ALIE, 0 means the paper's z_max). */
  parameter?: number;
  /** The task: its bound on claimed samples (inflate-samples). */
  task: Pick<Task, 'aggregation'>;
  /** The attackers of the run, shared by all of them. */
  collusion: Collusion;
  /** Participants in the run (n, for ALIE's z_max). */
  participants: number;
}

/** Samples claimed by `inflate-samples` when the task sets no bound: the server must refuse or bound it. */
export const INFLATED_SAMPLES = 1e12;

/**
 * What one attacker sends in place of its honest update (a flat delta from the round's start, claiming `samples`
 * examples): the one rule both schemes use, {@link byzantineApi} (federated) and a decentralized peer's
 * `sentUpdate` hook (`disco simulate --scheme decentralized --byzantine`).
 */
export async function attackUpdate(honest: Float32Array, context: { round: number; samples: number }, options: ByzantineOptions): Promise<{ values: Float32Array; samples: number }> {
  const parameter = options.parameter ?? defaultAttackParameter[options.attack];
  switch (options.attack) {
    case 'sign-flip':
      return { values: signFlip(honest, parameter), samples: context.samples };
    case 'gaussian':
      return { values: gaussianUpdate(honest.length, parameter), samples: context.samples };
    case 'alie': {
      const z = parameter || alieZ(options.participants, options.collusion.size);
      return { values: alie(await options.collusion.pool(context.round, honest), z), samples: context.samples };
    }
    case 'ipm':
      return { values: ipm(await options.collusion.pool(context.round, honest), parameter), samples: context.samples };
    case 'inflate-samples':
      return { values: signFlip(honest, parameter), samples: options.task.aggregation.maxSamplesPerUpdate ?? INFLATED_SAMPLES };
  }
}

/**
 * `api`, with `submitUpdate` replaced by the attack: the honest update (the client's encoded delta) is decoded,
 * attacked ({@link attackUpdate}), and encoded again with the same header, so that it passes every format check
 * an honest one does.
 */
export function byzantineApi(api: FederationApi, options: ByzantineOptions): FederationApi {
  const submitUpdate: FederationApi['submitUpdate'] = async (token, round, update) => {
    const { header, weights } = decodeWeights(update);
    const { values, samples } = await attackUpdate(weights.values, { round, samples: header.meta?.samples ?? 1 }, options);
    const encoded = encodeWeights(
      { values, shapes: weights.shapes },
      { taskId: header.taskId, modelVersion: header.modelVersion, dtype: header.dtype, meta: { ...header.meta, samples } },
    );
    return api.submitUpdate(token, round, encoded);
  };
  // A proxy, not a copy: every other member (getters such as `stats` included) stays the original's, bound to it.
  return new Proxy(api, {
    get(target, property) {
      if (property === 'submitUpdate') return submitUpdate;
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}
