import type * as tf from '@tensorflow/tfjs';
import { createStrategy } from '../aggregation/index.js';
import { weightedMetrics, withPerplexities } from '../aggregation/metrics.js';
import type { Dataset } from '../data/dataset.js';
import { evaluateModel } from '../evaluation/index.js';
import { buildModel, getFlatWeights, setFlatWeights, weightShapes } from '../model/index.js';
import { PeerNetwork } from '../peer/peer-network.js';
import { isSecureMessage, SecurePeerRound, secureMessageRound } from '../peer/secure-round.js';
import { Accountant } from '../privacy/accountant.js';
import { applySecureSum, prepareSecureUpdate, secureEncoding } from '../secure/prepare.js';
import type { PeerRoundInfo, SignallingApi } from '../peer/signalling-api.js';
import type { WrtcImplementation } from '../peer/types.js';
import type { Task } from '../task/schema.js';
import type { EpochMetrics, SessionStats, TrainingEvent } from '../training/events.js';
import { Trainer } from '../training/index.js';
import { decodeWeights, encodeWeights, WeightsFormatError } from '../weights/codec.js';
import { describeShapeMismatch, type FlatWeights } from '../weights/flat.js';
import { claimedSamples } from './check-update.js';
import { finalMetrics, finiteMetrics, participantData, streamSession, trainLocalRound, wakeAll, type ParticipantOptions } from './round-training.js';
import { sleep, throwIfStopped } from './session.js';

/** Options of a {@link DecentralizedClient}. */
export interface DecentralizedClientOptions extends ParticipantOptions<SignallingApi> {
  /** Node only: the WebRTC implementation (`nodeWrtc()` from `@disco/core/node`). */
  wrtc?: WrtcImplementation;
  /** Time allowed to one connection attempt to a peer (default 5 s), and the attempts (default 3). */
  connectTimeoutMs?: number;
  connectAttempts?: number;
  /**
   * Simulations and robustness tests only (`disco simulate --byzantine`): makes this peer an attacker. Given its
   * honest update of a round (local − the round's start) and the examples it claims, returns the update and claim
   * to send instead; the peer sends start + that update to its group and counts that same model as its own
   * contribution, exactly as a malicious member of the protocol would. Plain rounds only (a secure round refuses it).
   */
  sentUpdate?: (update: Float32Array, context: { round: number; samples: number }) => Promise<{ values: Float32Array; samples: number }>;
}

/** What the session ends with, besides the `done` event. */
export interface DecentralizedResult {
  /** Rounds completed: the model is the aggregate of this round. */
  rounds: number;
  accuracy?: number;
  loss?: number;
}

/** Peer messages: one kind byte, then a weights-codec message (none for a request). */
const MODEL = 1;
const MODEL_REQUEST = 2;
const MODEL_REPLY = 3;
/** Acknowledges a round's model (one more byte: the round, as a u32): the sender may leave once all came. */
const RECEIVED = 4;

interface Contribution {
  values: Float32Array;
  samples: number;
  metrics: EpochMetrics;
}

/**
 * A participant of a decentralized task: no aggregator, the server only introduces the peers. For each
 * round it says it is ready, learns the round's members and its group from the server, connects to the
 * group over WebRTC (while training), trains the local epochs, sends its model to the group, receives
 * theirs until the round's deadline, and aggregates them all with the task's strategy (in participant-id
 * order, so that the members of an all-to-all round end with identical weights). A neighbour that does not
 * connect, or disappears, is dropped when its model has not come by the deadline: the round never hangs.
 *
 * A participant that joins while others train (or falls behind) asks a neighbour for its latest
 * aggregated model and takes part from the next round.
 *
 * Events: the {@link Trainer}'s `batch`/`epoch`, then `round`, `participants` and `peers` (connected peers,
 * bytes exchanged), and a final `done`. Works in Node (pass `wrtc`) and in browsers.
 *
 * @example
 * ```ts
 * const client = new DecentralizedClient({ api: createSignallingApi(url, { WebSocket }), taskId, dataset, wrtc: nodeWrtc() });
 * for await (const event of client.run()) console.log(event);
 * ```
 */
export class DecentralizedClient {
  private readonly options: DecentralizedClientOptions;
  private readonly api: SignallingApi;
  private readonly abort = new AbortController();
  private emit: (event: TrainingEvent) => void = () => {};
  private unsubscribe: (() => void) | null = null;
  private running = false;
  /** The latest round the server told of, and who waits for a change. */
  private latest: PeerRoundInfo | null = null;
  private readonly roundWaiters: (() => void)[] = [];
  /** Models received, by round then by sender. */
  private readonly inbox = new Map<number, Map<string, Contribution>>();
  private readonly inboxWaiters: (() => void)[] = [];
  /** A model a neighbour sent in reply to our request (catching up). */
  private reply: { round: number; weights: FlatWeights } | null = null;
  /** The model after the last completed round (served to peers that catch up). */
  private current: FlatWeights | null = null;
  private lastParticipants = -1;
  /** Peers that have not yet acknowledged our model, by round. */
  private readonly unacknowledged = new Map<number, Set<string>>();
  private lastDeadline = 0;
  /** Secure tasks: each round's protocol, kept a round longer to answer late unmask requests. */
  private readonly secureRounds = new Map<number, SecurePeerRound>();
  /** Secure messages of a round whose protocol has not started here yet. */
  private readonly securePending = new Map<number, [string, Uint8Array][]>();
  /** Secure tasks under DP: the ε spent by the rounds this participant completed. */
  private accountant: Accountant | null = null;

  /** The participant token, once joined. */
  token: string | undefined;
  /** This participant's id, once joined. */
  participantId: string | undefined;
  task: Task | undefined;
  /** The model being trained; after the session, the last aggregate. */
  model: tf.LayersModel | undefined;
  /** Rounds completed so far (the model is the aggregate of this round). */
  completedRound = 0;
  /** The WebRTC connections to the other peers, once joined. */
  network: PeerNetwork | undefined;

  constructor(options: DecentralizedClientOptions) {
    this.options = options;
    this.api = options.api;
    this.token = options.token;
    this.model = options.model;
    options.signal?.addEventListener('abort', () => this.stop(), { once: true });
  }

  /** Bytes exchanged with peers (framing included) and, apart, with the signalling server. */
  get stats(): SessionStats {
    const peers = this.network?.stats ?? { bytesSent: 0, bytesReceived: 0 };
    const { bytesSent, bytesReceived } = this.api.stats;
    return { bytesSent: peers.bytesSent, bytesReceived: peers.bytesReceived, signalling: { bytesSent, bytesReceived } };
  }

  /** Stops the session: training stops at the next batch, the peers are disconnected, the stream ends with `done` (`stopped: true`). */
  stop(): void {
    this.abort.abort();
    this.notify();
  }

  /** Runs the session; see the class description. Can be iterated once. */
  async *run(): AsyncGenerator<TrainingEvent, DecentralizedResult | undefined> {
    if (this.running) throw new Error('a DecentralizedClient runs one session at a time');
    this.running = true;
    return yield* streamSession({
      start: (emit) => {
        this.emit = emit;
        return this.session();
      },
      onEvent: (event) => this.options.onEvent?.(event),
      stopped: () => this.abort.signal.aborted,
      stoppedEvent: () => ({ type: 'done', metrics: {}, stats: this.stats, rounds: this.completedRound, stopped: true }),
      stop: () => this.stop(),
      cleanup: () => this.cleanup(),
    });
  }

  private async session(): Promise<DecentralizedResult> {
    const signal = this.abort.signal;
    const { options } = this;
    const joined = await this.api.join(options.taskId, this.token ? { token: this.token } : undefined);
    this.token = joined.token;
    this.participantId = joined.participantId;
    const task = (this.task = joined.task);
    if (task.scheme !== 'decentralized') throw new Error(`task "${task.id}" is ${task.scheme}, not decentralized`);
    const target = options.rounds ?? task.training.rounds;
    const model = (this.model ??= buildModel(task));
    const encodedInitial = await this.api.downloadInitialModel(task.id);
    const initial = decodeWeights(encodedInitial).weights;
    const mismatch = describeShapeMismatch(weightShapes(model), initial.shapes);
    if (mismatch) throw new Error(`the task's model does not fit this client's: ${mismatch}`);
    setFlatWeights(model, initial);
    this.current = initial;

    this.network = new PeerNetwork({
      localId: joined.participantId,
      sendSignal: (to, s) => this.api.signal(joined.token, to, s),
      wrtc: options.wrtc,
      iceServers: joined.iceServers,
      connectTimeoutMs: options.connectTimeoutMs ?? 5_000,
      attempts: options.connectAttempts ?? 3,
      // Every message is a model of this size at most (float32), plus its header: refuse anything larger.
      maxMessageBytes: 2 * encodedInitial.length + 64 * 1024,
    });
    this.listen(this.network);
    // Signals wait on the server until this subscription takes them.
    this.unsubscribe = this.api.watch(
      joined.token,
      (event) => {
        if (event.type === 'signal') this.network?.handleSignal(event.from, event.signal);
        else this.updateRound(event.round);
      },
      (error) => this.emit({ type: 'log', level: 'warn', message: `signalling subscription: ${error.message}` }),
    );
    if (joined.round) this.updateRound(joined.round);
    const { train, validation } = await participantData(options.dataset, options.validation, task);
    const trainer = new Trainer(model, task.training);
    const heartbeat = setInterval(() => void this.api.heartbeat(joined.token).catch(() => undefined), options.heartbeatIntervalMs ?? joined.heartbeatIntervalMs);
    const secure = task.privacy.secureAggregation;
    const noise = task.privacy.noiseMultiplier ?? 0;
    if (noise > 0) this.accountant = new Accountant();
    let budgetExhausted = false;
    try {
      let metrics: EpochMetrics | null = null;
      while (this.completedRound < target) {
        throwIfStopped(signal);
        const round = this.completedRound + 1;
        const budget = task.privacy.budget;
        if (budget && this.accountant?.wouldExceed({ epsilon: budget.epsilon, delta: task.privacy.delta }, 1, noise)) {
          budgetExhausted = true;
          this.emit({ type: 'log', level: 'info', message: `round ${round} would take ε above the budget ${budget.epsilon} (δ = ${task.privacy.delta}): training stops` });
          break;
        }
        const info = await this.waitForRound(round, metrics);
        if (!info) {
          await this.catchUp(round);
          continue;
        }
        metrics = secure ? await this.playSecureRound(info, trainer, train, validation, task, target) : await this.playRound(info, trainer, train, validation, task, target);
      }
      await this.delivered(this.completedRound);
      await this.secureRounds.get(this.completedRound)?.settled(this.lastDeadline);
      const final = evaluateModel(model, validation ?? train);
      this.emit({
        type: 'done',
        metrics: finalMetrics(final),
        stats: this.stats,
        rounds: this.completedRound,
        stopped: false,
        ...(secure && { secureAggregation: true }),
        ...this.privacySpent(),
        ...(budgetExhausted && { budgetExhausted }),
      });
      return { rounds: this.completedRound, accuracy: final.accuracy, loss: final.loss };
    } finally {
      clearInterval(heartbeat);
    }
  }

  /**
   * Says this participant is ready for `round` and waits until the round runs. Returns the round when this
   * participant is a member; null when it is behind (the round started without it, or a later one exists).
   */
  private async waitForRound(round: number, metrics: EpochMetrics | null): Promise<PeerRoundInfo | null> {
    const signal = this.abort.signal;
    const report = metrics ? finiteMetrics(metrics) : undefined;
    const ask = async () => this.updateRound(await this.api.ready(this.token as string, round, report));
    await ask();
    for (;;) {
      throwIfStopped(signal);
      const latest = this.latest as PeerRoundInfo;
      if (latest.round > round || (latest.round === round && latest.phase === 'running' && !latest.member)) return null;
      if (latest.round === round && latest.phase === 'running') return latest;
      const changed = new Promise<boolean>((resolve) => this.roundWaiters.push(() => resolve(true)));
      const woke = await Promise.race([changed, sleep(this.options.pollIntervalMs ?? 2_000, signal).then(() => false)]);
      if (!woke) await ask();
    }
  }

  /** One round as a member: connect to the group, train, exchange models until the deadline, aggregate. */
  private async playRound(info: PeerRoundInfo, trainer: Trainer, train: Dataset, validation: Dataset | undefined, task: Task, target: number): Promise<EpochMetrics> {
    const signal = this.abort.signal;
    const network = this.network as PeerNetwork;
    const model = this.model as tf.LayersModel;
    const round = info.round;
    const deadline = Date.now() + (info.deadlineInMs ?? 0);
    const group = info.group.filter((id) => id !== this.participantId);
    // Connecting takes a round trip or two through the server: overlap it with training.
    const connecting = network.connect(group);

    const start = this.options.sentUpdate ? getFlatWeights(model) : null;
    // A fresh optimizer each round, as the federated client does: no momentum carried into the new start.
    const metrics = await trainLocalRound(model, { trainer, train, validation, round, task, signal, emit: this.emit });

    // The weight claimed never exceeds the task's bound, which every peer enforces on what it receives.
    const samples = claimedSamples(task, train.count);
    const sent = start ? await this.attack(start, getFlatWeights(model), round, samples) : { weights: getFlatWeights(model), samples };
    // Our own contribution goes through the codec like everyone's, so that quantization treats all alike.
    const encoded = encodeWeights(sent.weights, {
      taskId: task.id,
      modelVersion: round,
      dtype: task.quantization,
      meta: { samples: sent.samples, round, ...finiteMetrics(metrics) },
    });
    const own = decodeWeights(encoded).weights;
    const message = withKind(MODEL, encoded);
    const { connected, failed } = await untilDeadline(connecting, deadline, { connected: [], failed: group.map((peerId) => ({ peerId, reason: 'deadline passed while connecting' })) });
    this.emitPeers(round, failed.map((f) => f.peerId));
    for (const f of failed) this.emit({ type: 'log', level: 'warn', message: `round ${round}: peer ${f.peerId} unreachable (${f.reason}); going on without it` });
    this.unacknowledged.set(round, new Set(connected));
    this.lastDeadline = deadline;
    await Promise.all(
      connected.map((peerId) =>
        untilDeadline(network.send(peerId, message), deadline, undefined).catch((error: Error) =>
          this.emit({ type: 'log', level: 'warn', message: `round ${round}: could not send the model to ${peerId}: ${error.message}` }),
        ),
      ),
    );

    // Wait for the group's models until the deadline; peers that disconnect are not waited for.
    const received = await this.collect(round, connected, deadline);
    // Only the group's models count (another participant's model has no place in this aggregate).
    const contributions = new Map([...received].filter(([id]) => group.includes(id)));
    contributions.set(this.participantId as string, { values: own.values, samples: sent.samples, metrics });
    // One order on every peer (participant ids, by UTF-16 code units): the float sums then add up alike and
    // the peers of a clean round end bitwise identical (decision 0006).
    const ids = [...contributions.keys()].sort();
    const late = connected.filter((id) => !contributions.has(id));
    if (late.length) this.emit({ type: 'log', level: 'warn', message: `round ${round}: no model from ${late.join(', ')} by the deadline; aggregated without` });
    // Equal weights on the exponential graph keep the mixing doubly stochastic (see peer/topology.ts).
    const weighted = info.topology !== 'exponential';
    const aggregator = createStrategy(task.aggregation).createAggregator(own.values.length);
    for (const id of ids) {
      const c = contributions.get(id) as Contribution;
      aggregator.add(c.values, weighted ? c.samples : 1);
    }
    const aggregate: FlatWeights = { values: aggregator.result(), shapes: own.shapes };
    setFlatWeights(model, aggregate);
    this.current = aggregate;
    this.completedRound = round;
    this.inbox.delete(round);
    this.unacknowledged.delete(round - 1);
    this.emit({
      type: 'round',
      round,
      rounds: target,
      metrics: { ...metrics, aggregated: meanMetrics([...contributions.values()], metrics.perplexity !== undefined) },
      participants: ids.length,
      modelVersion: round,
    });
    this.emitPeers(round, failed.map((f) => f.peerId));
    return metrics;
  }

  /** The model and claim an attacker sends (`sentUpdate`): start + the attacked update. */
  private async attack(start: FlatWeights, local: FlatWeights, round: number, samples: number): Promise<{ weights: FlatWeights; samples: number }> {
    const honest = local.values.map((v, i) => v - start.values[i]);
    const attacked = await (this.options.sentUpdate as NonNullable<DecentralizedClientOptions['sentUpdate']>)(honest, { round, samples });
    return { weights: { values: attacked.values.map((v, i) => start.values[i] + v), shapes: local.shapes }, samples: attacked.samples };
  }

  /**
   * One round of a task with secure aggregation (decision 0010, "Decentralized"): the round is all-to-all; keys and
   * shares are exchanged before training, then each member masks its clipped, weighted update against the round's
   * start and every member unmasks the same sum (peer/secure-round.ts). A member that cannot unmask (fewer than t, or
   * its input too late) keeps its model, unless a neighbour that completed the round hands it the aggregate.
   */
  private async playSecureRound(info: PeerRoundInfo, trainer: Trainer, train: Dataset, validation: Dataset | undefined, task: Task, target: number): Promise<EpochMetrics> {
    const signal = this.abort.signal;
    const network = this.network as PeerNetwork;
    const model = this.model as tf.LayersModel;
    const round = info.round;
    const self = this.participantId as string;
    const group = info.group.filter((id) => id !== self);
    const others = info.members.filter((id) => id !== self);
    if (this.options.sentUpdate) throw new Error(`task "${task.id}" uses secure aggregation: a sentUpdate attacker takes part in plain rounds only`);
    if (info.topology === 'exponential' || group.length !== others.length || others.some((id) => !group.includes(id)))
      throw new Error(`round ${round} of task "${task.id}" is not all-to-all (${info.topology ?? 'unknown'} topology, ${group.length} of ${others.length} members as neighbours): secure aggregation needs every member's masked input`);
    const begin = Date.now();
    const deadline = begin + (info.deadlineInMs ?? 0);
    const at = (fraction: number) => begin + fraction * (deadline - begin);
    // Keys and shares before training (they do not depend on the input); training must end before 80 %.
    const deadlines = { keys: at(0.15), shares: at(0.3), masked: at(0.8), views: at(0.9), unmask: deadline };
    this.lastDeadline = deadline;
    const start = getFlatWeights(model);
    const secure = new SecurePeerRound({
      id: self,
      taskId: task.id,
      round,
      members: info.members,
      length: start.values.length + 1,
      deadlines,
      signal,
      transport: { send: (to, bytes) => network.send(to, bytes), reachable: (peer) => network.isConnected(peer) },
      log: (message) => this.emit({ type: 'log', level: 'warn', message }),
    });
    this.secureRounds.set(round, secure);
    for (const [from, bytes] of this.securePending.get(round) ?? []) secure.receive(from, bytes);
    this.securePending.delete(round);
    for (const [r, old] of this.secureRounds) if (r < round - 1) {
      old.close();
      this.secureRounds.delete(r);
    }

    const { failed } = await untilDeadline(network.connect(group), deadlines.keys, { connected: [], failed: group.map((peerId) => ({ peerId, reason: 'deadline passed while connecting' })) });
    this.emitPeers(round, failed.map((f) => f.peerId));
    for (const f of failed) this.emit({ type: 'log', level: 'warn', message: `round ${round}: peer ${f.peerId} unreachable (${f.reason}); going on without it` });
    let roster: string[] | null = null;
    let abandoned: string | null = null;
    try {
      ({ roster } = await secure.setup());
    } catch (error) {
      throwIfStopped(signal);
      abandoned = (error as Error).message;
    }
    const metrics = await trainLocalRound(model, { trainer, train, validation, round, task, signal, emit: this.emit });
    let participants = 0;
    if (roster) {
      const encoding = secureEncoding(task, roster.length, start.values.length);
      const prepared = prepareSecureUpdate({ start: start.values, local: getFlatWeights(model).values, examples: train.count }, encoding);
      const outcome = await secure.aggregate(prepared.words);
      throwIfStopped(signal);
      if (outcome.ok) {
        const aggregate: FlatWeights = { values: applySecureSum(start.values, outcome.sum, encoding).values, shapes: start.shapes };
        setFlatWeights(model, aggregate);
        this.current = aggregate;
        participants = outcome.survivors.length;
        this.accountant?.step(1, encoding.noiseMultiplier);
      } else abandoned = outcome.reason;
    }
    if (abandoned !== null) {
      setFlatWeights(model, start);
      this.emit({ type: 'log', level: 'warn', message: `round ${round} abandoned by this participant (${abandoned}); it keeps the model of round ${round - 1}` });
      await this.fetchAggregate(round, others, deadline);
    }
    this.completedRound = round;
    if (participants > 0)
      this.emit({ type: 'round', round, rounds: target, metrics, participants, modelVersion: round, ...this.privacySpent() });
    this.emitPeers(round, failed.map((f) => f.peerId));
    return metrics;
  }

  /**
   * After abandoning `round`: asks the other members for their model until one that completed the round answers,
   * or the round's deadline passes (then every member likely abandoned too, and all keep the same model). Their
   * updates are taken against the round's start, so a member left behind would otherwise stay apart for good.
   */
  private async fetchAggregate(round: number, members: string[], deadline: number): Promise<void> {
    const network = this.network as PeerNetwork;
    this.reply = null;
    while (Date.now() < deadline && !this.abort.signal.aborted) {
      for (const id of members.filter((m) => network.isConnected(m))) void network.send(id, new Uint8Array([MODEL_REQUEST])).catch(() => undefined);
      await sleep(Math.min(500, Math.max(0, deadline - Date.now())), this.abort.signal).catch(() => undefined);
      const reply = this.reply as { round: number; weights: FlatWeights } | null;
      if (reply && reply.round >= round) {
        setFlatWeights(this.model as tf.LayersModel, reply.weights);
        this.current = reply.weights;
        this.emit({ type: 'log', level: 'info', message: `took the aggregate of round ${round} from a neighbour that completed it` });
        return;
      }
    }
  }

  /** The ε spent so far under DP (nothing without noise). */
  private privacySpent(): { epsilon?: number; delta?: number } {
    const delta = this.task?.privacy.delta;
    if (!this.accountant || delta === undefined) return {};
    return { epsilon: this.accountant.steps ? this.accountant.spent(delta).epsilon : 0, delta };
  }

  /** The models of `peers` for `round`, as they arrive, until all came, they disconnected, or the deadline. */
  private async collect(round: number, peers: string[], deadline: number): Promise<Map<string, Contribution>> {
    const network = this.network as PeerNetwork;
    for (;;) {
      const got = this.inbox.get(round) ?? new Map<string, Contribution>();
      const waiting = peers.filter((id) => !got.has(id) && network.isConnected(id));
      const left = deadline - Date.now();
      if (!waiting.length || left <= 0 || this.abort.signal.aborted) return got;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 1_000)); // also re-checks connections now and then
        this.inboxWaiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /**
   * Waits until the peers we sent our model of `round` to have acknowledged it (or disconnected, or the
   * round's deadline passed): `send` only hands the bytes to the data channel, and closing the connection
   * at the end of the session would otherwise drop a model still in flight.
   */
  private async delivered(round: number): Promise<void> {
    const network = this.network as PeerNetwork;
    for (;;) {
      const pending = [...(this.unacknowledged.get(round) ?? [])].filter((id) => network.isConnected(id));
      const left = this.lastDeadline - Date.now();
      if (!pending.length || left <= 0 || this.abort.signal.aborted) return;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 1_000));
        this.inboxWaiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /**
   * Behind (joined mid-training, or late for a round): asks the members of the latest round for their
   * latest aggregated model and takes it, then tries the next round.
   */
  private async catchUp(round: number): Promise<void> {
    const signal = this.abort.signal;
    const network = this.network as PeerNetwork;
    const seen = JSON.stringify(this.latest);
    const sources = (this.latest?.members ?? []).filter((id) => id !== this.participantId);
    this.emit({ type: 'log', level: 'info', message: `round ${round} started without this participant; fetching the current model from a neighbour` });
    this.reply = null;
    const { connected } = await network.connect(sources.slice(0, 3));
    for (const id of connected) void network.send(id, new Uint8Array([MODEL_REQUEST])).catch(() => undefined);
    const until = Date.now() + (this.options.connectTimeoutMs ?? 5_000) * 2;
    while (!this.reply && Date.now() < until) {
      throwIfStopped(signal);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 200);
        this.inboxWaiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    const reply = this.reply as { round: number; weights: FlatWeights } | null;
    if (reply && reply.round > this.completedRound) {
      setFlatWeights(this.model as tf.LayersModel, reply.weights);
      this.current = reply.weights;
      this.completedRound = reply.round;
      this.emit({ type: 'log', level: 'info', message: `took the model of round ${reply.round} from a neighbour; joining round ${reply.round + 1}` });
      return;
    }
    if (!connected.length && (this.latest?.participants ?? 0) <= 1)
      throw new Error(`no other participant is left to take the model of round ${this.latest?.round ?? round} from (task "${this.task?.id}")`);
    // Nothing newer yet (the neighbours are mid-round): wait for the next change of round.
    while (JSON.stringify(this.latest) === seen) {
      throwIfStopped(signal);
      await Promise.race([new Promise<void>((resolve) => this.roundWaiters.push(resolve)), sleep(this.options.pollIntervalMs ?? 2_000, signal)]);
      if (JSON.stringify(this.latest) === seen) this.updateRound(await this.api.ready(this.token as string, round));
    }
  }

  private listen(network: PeerNetwork): void {
    network.on('message', (from, message) => this.receive(from, message));
    network.on('connect', () => this.emitPeers());
    network.on('disconnect', (peerId, reason) => {
      this.emit({ type: 'log', level: 'info', message: `peer ${peerId} disconnected (${reason})` });
      for (const secure of this.secureRounds.values()) secure.markGone(peerId);
      this.emitPeers();
      this.notifyInbox();
    });
    network.on('error', (peerId, error) => this.emit({ type: 'log', level: 'warn', message: `peer ${peerId}: ${error.message}` }));
  }

  private receive(from: string, message: Uint8Array): void {
    if (isSecureMessage(message)) {
      const round = secureMessageRound(message);
      const secure = this.secureRounds.get(round);
      if (secure) secure.receive(from, message);
      else if (round > this.completedRound && round <= this.completedRound + 2) {
        // A faster member's step of a round not started here yet (bounded: a member sends a handful per round).
        const pending = this.securePending.get(round) ?? [];
        if (pending.length < 64 * ((this.latest?.members.length ?? 8) + 1)) pending.push([from, message]);
        this.securePending.set(round, pending);
      }
      return;
    }
    const kind = message[0];
    if (kind === MODEL_REQUEST) {
      if (this.current && this.task)
        void this.network
          ?.send(from, withKind(MODEL_REPLY, encodeWeights(this.current, { taskId: this.task.id, modelVersion: this.completedRound })))
          .catch(() => undefined);
      return;
    }
    if (kind === RECEIVED && message.length === 5) {
      this.unacknowledged.get(new DataView(message.buffer, message.byteOffset + 1, 4).getUint32(0, true))?.delete(from);
      this.notifyInbox();
      return;
    }
    if (kind !== MODEL && kind !== MODEL_REPLY) return;
    try {
      const { header, weights } = decodeWeights(message.subarray(1));
      const task = this.task as Task;
      if (header.taskId !== task.id) throw new WeightsFormatError(`a model of task "${header.taskId}", not "${task.id}"`);
      const mismatch = this.current && describeShapeMismatch(this.current.shapes, weights.shapes);
      if (mismatch) throw new WeightsFormatError(mismatch);
      if (kind === MODEL_REPLY) {
        if (!this.reply || header.modelVersion > this.reply.round) this.reply = { round: header.modelVersion, weights };
      } else {
        const round = header.modelVersion;
        const samples = header.meta?.samples ?? 0;
        if (!(samples > 0)) throw new WeightsFormatError('no positive sample count in the model header');
        // Bounded influence, as the server bounds federated claims (BAD_META): a larger claim is refused whole.
        const bound = task.aggregation.maxSamplesPerUpdate;
        if (bound !== undefined && samples > bound)
          throw new WeightsFormatError(`it claims ${samples} examples, more than the task's maxSamplesPerUpdate (${bound})`);
        const ack = new Uint8Array(5);
        ack[0] = RECEIVED;
        new DataView(ack.buffer).setUint32(1, round, true);
        void this.network?.send(from, ack).catch(() => undefined);
        // Keep only rounds that may still be played: a stale or far-ahead model is dropped.
        if (round > this.completedRound && round <= this.completedRound + 2) {
          const box = this.inbox.get(round) ?? new Map<string, Contribution>();
          box.set(from, { values: weights.values, samples, metrics: metricsOf(header.meta) });
          this.inbox.set(round, box);
        }
      }
      this.notifyInbox();
    } catch (error) {
      this.emit({ type: 'log', level: 'warn', message: `refused a model from ${from}: ${(error as Error).message}` });
    }
  }

  private updateRound(info: PeerRoundInfo): void {
    const latest = this.latest;
    if (latest && (info.round < latest.round || (info.round === latest.round && latest.phase === 'running' && info.phase === 'gathering'))) return;
    this.latest = info;
    if (info.participants !== this.lastParticipants) {
      this.lastParticipants = info.participants;
      this.emit({ type: 'participants', count: info.participants, round: info.round });
    }
    this.notify();
  }

  private emitPeers(round?: number, failed: string[] = []): void {
    const network = this.network;
    if (!network) return;
    const peers = network.connectedPeers;
    const { bytesSent, bytesReceived } = network.stats;
    this.emit({ type: 'peers', connected: peers.length, peers, failed, bytesSent, bytesReceived, ...(round !== undefined && { round }) });
  }

  private notify(): void {
    wakeAll(this.roundWaiters);
    this.notifyInbox();
  }

  private notifyInbox(): void {
    wakeAll(this.inboxWaiters);
  }

  private async cleanup(): Promise<void> {
    for (const secure of this.secureRounds.values()) secure.close();
    this.unsubscribe?.();
    this.unsubscribe = null;
    this.network?.close();
    if (this.token && (this.options.leaveWhenDone ?? true)) {
      try {
        await this.api.leave(this.token);
      } catch {
        // Leaving is a courtesy: the server stops counting silent participants anyway.
      }
    }
  }
}

function withKind(kind: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(payload.length + 1);
  out[0] = kind;
  out.set(payload, 1);
  return out;
}

/** Resolves like `promise`, or with `fallback` once `deadline` (epoch ms) passes. */
function untilDeadline<T>(promise: Promise<T>, deadline: number, fallback: T): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<T>((resolve) => (timer = setTimeout(() => resolve(fallback), Math.max(0, deadline - Date.now()))));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function metricsOf(meta: Record<string, number> | undefined): EpochMetrics {
  return { ...finiteMetrics(meta), loss: meta?.loss ?? NaN };
}

/**
 * Sample-weighted mean of the contributors' local metrics (the one definition, `aggregation/metrics.ts`);
 * for a language model, with the perplexities of the mean losses.
 */
function meanMetrics(contributions: Contribution[], languageModel: boolean): EpochMetrics {
  const mean = weightedMetrics(contributions);
  const metrics = { ...mean, loss: mean.loss ?? NaN };
  return languageModel ? withPerplexities(metrics) : metrics;
}
