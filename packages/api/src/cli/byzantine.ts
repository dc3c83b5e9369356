// `disco simulate --aggregator … --byzantine k --attack …` (issue 10): the simulation task's aggregation
// strategy, and the last k simulated clients as attackers. The attackers are real participants: they join,
// download, train and upload (or, decentralized, send to their peers) through the same API as the honest
// clients; only what they send differs (core's attacks/), or, for label-flip, the labels they train on.
import {
  aggregationStrategies,
  attackNames,
  attackUpdate,
  byzantineApi,
  Collusion,
  flipLabels,
  type AggregationStrategyName,
  type AttackName,
  type ByzantineOptions,
  type Dataset,
  type FederationApi,
  type Task,
} from '@disco/core';
import { choiceOption, CliError, integerOption, UsageError, type OptionValues } from './args.js';

/** The aggregation settings asked for with `--aggregator [--aggregator-param]`, laid over the task's. */
export type AggregatorSettings = Pick<Task['aggregation'], 'strategy' | 'parameter'>;

/** `--byzantine k --attack <name> [--attack-param x]`. */
export interface ByzantineSettings {
  /** The last `count` clients attack. */
  count: number;
  attack: AttackName;
  parameter?: number;
}

/** `--aggregator <name> [--aggregator-param x]`, checked for the names the task schema knows; undefined when absent. */
export function aggregatorOptions(values: OptionValues, usage: string): AggregatorSettings | undefined {
  const param = values['aggregator-param'];
  if (values.aggregator === undefined) {
    if (param !== undefined) throw new UsageError('--aggregator-param needs --aggregator: it is that strategy\'s parameter', usage);
    return undefined;
  }
  const strategy = choiceOption<AggregationStrategyName>(values, 'aggregator', aggregationStrategies, usage, 'fedavg');
  if (param === undefined) return { strategy };
  if (strategy === 'fedavg') throw new UsageError('--aggregator fedavg takes no --aggregator-param', usage);
  const parameter = typeof param === 'string' && param.trim() !== '' ? Number(param) : NaN;
  // The strategy's own range (a fraction below 0.5, a whole f…) is the task schema's check, with its message.
  if (!(parameter >= 0) || !Number.isFinite(parameter)) throw new UsageError(`--aggregator-param must be a number of at least 0, got "${String(param)}"`, usage);
  return { strategy, parameter };
}

/** `--byzantine k --attack <name> [--attack-param x]` for `clients` clients; undefined when absent. */
export function byzantineOptions(values: OptionValues, clients: number, usage: string): ByzantineSettings | undefined {
  const count = integerOption(values, 'byzantine', usage, { min: 0, fallback: 0 }) as number;
  if (count === 0) {
    for (const flag of ['attack', 'attack-param'])
      if (values[flag] !== undefined) throw new UsageError(`--${flag} needs --byzantine <k> (k ≥ 1): the number of clients that attack`, usage);
    return undefined;
  }
  if (count >= clients)
    throw new UsageError(`--byzantine must be below --clients (at least one client must be honest to measure): got --byzantine ${count} with --clients ${clients}`, usage);
  if (values.attack === undefined) throw new UsageError(`--byzantine needs --attack <name>: one of ${attackNames.join(', ')}`, usage);
  const attack = choiceOption<AttackName>(values, 'attack', attackNames, usage, 'sign-flip');
  if (values.secure === true && attack !== 'label-flip')
    throw new UsageError(`--attack ${attack} cannot be combined with --secure: it acts on plain updates, which secure aggregation masks (label-flip can)`, usage);
  const raw = values['attack-param'];
  if (raw === undefined) return { count, attack };
  if (attack === 'label-flip') throw new UsageError('--attack label-flip takes no --attack-param (labels y become classes − 1 − y)', usage);
  const parameter = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
  if (!Number.isFinite(parameter)) throw new UsageError(`--attack-param must be a number, got "${String(raw)}"`, usage);
  return { count, attack, parameter };
}

/** Whether client `i` of `clients` attacks (the last `count` do). */
export function isAttacker(byzantine: ByzantineSettings | undefined, i: number, clients: number): boolean {
  return byzantine !== undefined && i >= clients - byzantine.count;
}

/** The shards as the clients train on them: label-flip attackers get theirs with flipped labels. */
export function poisonedShards(shards: Dataset[], byzantine: ByzantineSettings | undefined): Dataset[] {
  if (byzantine?.attack !== 'label-flip') return shards;
  return shards.map((shard, i) => (isAttacker(byzantine, i, shards.length) ? flipLabels(shard) : shard));
}

/**
 * One attacker's options for core's attacks (all attackers of a run share one {@link Collusion}, which ALIE and
 * IPM need), or undefined for client `i` when it is honest or its attack is on data (label-flip).
 */
export function attackers(byzantine: ByzantineSettings | undefined, task: Task, clients: number): (i: number) => ByzantineOptions | undefined {
  if (!byzantine || byzantine.attack === 'label-flip') return () => undefined;
  if (task.privacy.secureAggregation)
    throw new CliError('invalid-attack', `--attack ${byzantine.attack} acts on plain updates, and task "${task.id}" uses secure aggregation, which masks them (label-flip can attack it)`);
  const options: ByzantineOptions = {
    attack: byzantine.attack,
    parameter: byzantine.parameter,
    task,
    collusion: new Collusion(byzantine.count),
    participants: clients,
  };
  return (i) => (isAttacker(byzantine, i, clients) ? options : undefined);
}

/** A federated client's port: the attacker's sends its attack instead of its update. */
export function clientApi(api: FederationApi, attacker: ByzantineOptions | undefined): FederationApi {
  return attacker ? byzantineApi(api, attacker) : api;
}

/** A decentralized peer's `sentUpdate` hook: the attacker's sends its attack instead of its update. */
export function peerAttack(attacker: ByzantineOptions | undefined): ((update: Float32Array, context: { round: number; samples: number }) => Promise<{ values: Float32Array; samples: number }>) | undefined {
  return attacker && ((update, context) => attackUpdate(update, context, attacker));
}

/** The done line's fields: the strategy the participants ran, and the attack. */
export function robustnessFields(task: Task | undefined, byzantine: ByzantineSettings | undefined): Record<string, unknown> {
  return {
    ...(task && { aggregator: task.aggregation.strategy }),
    ...(task?.aggregation.parameter !== undefined && { aggregatorParameter: task.aggregation.parameter }),
    byzantine: byzantine?.count ?? 0,
    ...(byzantine && { attack: byzantine.attack }),
    ...(byzantine?.parameter !== undefined && { attackParameter: byzantine.parameter }),
  };
}
