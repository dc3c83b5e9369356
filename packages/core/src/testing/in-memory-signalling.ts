import { DiscoApiError } from '../client/api-errors.js';
import type { TransferStats } from '../client/federation-api.js';
import type { PeerJoinResult, PeerRoundInfo, PeerServerEvent, SignallingApi } from '../peer/signalling-api.js';
import { roundGroups, type TopologyName } from '../peer/topology.js';
import type { PeerSignal } from '../peer/types.js';
import type { Task } from '../task/schema.js';

interface Participant {
  id: string;
  taskId: string;
  listeners: Set<{ listener: (event: PeerServerEvent) => void }>;
}

interface PeerRound {
  round: number;
  phase: 'gathering' | 'running';
  ready: Set<string>;
  members: string[];
  groups: Record<string, string[]>;
  topology?: TopologyName;
  deadlineAt?: number;
}

export interface InMemorySignallingOptions {
  /** The tasks served: a list, or a lookup (e.g. a fake server's task map, read on every call). */
  tasks: readonly Task[] | ((taskId: string) => Task | undefined);
  /** Version 0 of a task's model, in the weights codec (e.g. an in-memory federation's `downloadWeights(id, 0)`). */
  initialModel: (taskId: string) => Promise<Uint8Array>;
  /** Overrides every task's `roundDeadlineSeconds` (ms), as `disco serve --round-deadline` does. */
  roundDeadlineMs?: number;
}

/**
 * A {@link SignallingApi} served from memory that behaves like the server's peers router: it introduces the
 * participants of a task to each other, with the server's refusals (`DiscoApiError`s, same codes). Rounds
 * are metadata only: a round gathers the participants that say they are ready and runs once every active
 * participant of the task (and at least the task's minimum) is ready, in the server's groups (`roundGroups`:
 * all-to-all up to 8 members, an exponential graph beyond). Signals go to participants of the same task
 * only. The models themselves travel over real WebRTC data channels between the peers.
 */
export class InMemorySignalling implements SignallingApi {
  readonly stats: TransferStats = { bytesSent: 0, bytesReceived: 0 };
  private readonly participants = new Map<string, Participant>();
  private readonly byTask = new Map<string, PeerRound>();
  private counter = 0;

  private readonly taskOf: (taskId: string) => Task | undefined;

  constructor(private readonly options: InMemorySignallingOptions) {
    const { tasks } = options;
    this.taskOf = typeof tasks === 'function' ? tasks : (taskId) => tasks.find((t) => t.id === taskId);
  }

  async join(taskId: string, options: { token?: string } = {}): Promise<PeerJoinResult> {
    const task = this.taskOf(taskId);
    if (!task) throw new DiscoApiError('NOT_FOUND', `task "${taskId}" does not exist`);
    if (task.scheme !== 'decentralized') throw new DiscoApiError('SCHEME_MISMATCH', `task "${taskId}" is ${task.scheme}, not decentralized: it has no peers to signal`);
    const known = options.token ? this.participants.get(options.token) : undefined;
    if (options.token && !known) throw new DiscoApiError('UNAUTHORIZED', 'unknown participant token: join without a token to get a new one');
    if (known && known.taskId !== taskId) throw new DiscoApiError('FORBIDDEN', `this participant token belongs to another task, not to "${taskId}"`);
    const token = known ? options.token! : `peer-token-${++this.counter}-${Math.random().toString(36).slice(2)}`;
    if (!known) this.participants.set(token, { id: `peer-${String(this.counter).padStart(3, '0')}`, taskId, listeners: new Set() });
    const participant = this.participants.get(token)!;
    const round = this.byTask.get(taskId);
    this.broadcast(taskId);
    return {
      participantId: participant.id,
      token,
      task: structuredClone(task),
      iceServers: [],
      round: round ? this.info(round, participant) : null,
      heartbeatIntervalMs: 5_000,
    };
  }

  async heartbeat(token: string): Promise<void> {
    this.participant(token);
  }

  async downloadInitialModel(taskId: string): Promise<Uint8Array> {
    if (!this.taskOf(taskId)) throw new DiscoApiError('NOT_FOUND', `task "${taskId}" does not exist`);
    const bytes = await this.options.initialModel(taskId);
    this.stats.bytesReceived += bytes.byteLength;
    return bytes;
  }

  async ready(token: string, round: number): Promise<PeerRoundInfo> {
    const participant = this.participant(token);
    const task = this.taskOf(participant.taskId)!;
    // The server's rule: the next round opens (gathering), a round further ahead is refused, an older one
    // is answered with the latest round (the caller is behind and catches up from a neighbour).
    let current = this.byTask.get(participant.taskId);
    const latest = current?.round ?? 0;
    if (round > latest + 1)
      throw new DiscoApiError('WRONG_ROUND', `round ${round} cannot start yet: the latest round of task "${task.id}" is ${latest}`);
    if (!current || round === latest + 1) {
      current = { round, phase: 'gathering', ready: new Set(), members: [], groups: {} };
      this.byTask.set(participant.taskId, current);
    }
    if (round === current.round && current.phase === 'gathering') {
      current.ready.add(participant.id);
      const everyone = this.membersOf(participant.taskId).every((p) => current.ready.has(p.id));
      if (everyone && current.ready.size >= Math.max(1, task.minParticipants)) {
        current.phase = 'running';
        const { members, topology, groups } = roundGroups([...current.ready], round, task);
        Object.assign(current, { members, topology, groups });
        current.deadlineAt = Date.now() + (this.options.roundDeadlineMs ?? task.roundDeadlineSeconds * 1000);
      }
      this.broadcast(participant.taskId);
    }
    return this.info(current, participant);
  }

  async signal(token: string, to: string, signal: PeerSignal): Promise<void> {
    const from = this.participant(token);
    if (to === from.id) throw new DiscoApiError('BAD_REQUEST', 'a participant cannot signal itself');
    const addressee = [...this.participants.values()].find((p) => p.id === to && p.taskId === from.taskId);
    if (!addressee)
      throw new DiscoApiError('FORBIDDEN', `cannot signal "${to}": it is not a participant of task "${from.taskId}" (signals stay within a task)`);
    this.stats.bytesSent += JSON.stringify(signal).length;
    const event: PeerServerEvent = { type: 'signal', from: from.id, signal: structuredClone(signal) };
    queueMicrotask(() => addressee.listeners.forEach((l) => l.listener(event)));
  }

  watch(token: string, listener: (event: PeerServerEvent) => void): () => void {
    const participant = this.participant(token);
    const entry = { listener };
    participant.listeners.add(entry);
    return () => participant.listeners.delete(entry);
  }

  async leave(token: string): Promise<void> {
    const participant = this.participants.get(token);
    if (!participant) return;
    this.participants.delete(token);
    this.broadcast(participant.taskId);
  }

  close(): void {
    for (const p of this.participants.values()) p.listeners.clear();
  }

  private membersOf(taskId: string): Participant[] {
    return [...this.participants.values()].filter((p) => p.taskId === taskId);
  }

  private info(round: PeerRound, participant: Participant): PeerRoundInfo {
    const running = round.phase === 'running';
    const member = running && round.members.includes(participant.id);
    return {
      taskId: participant.taskId,
      round: round.round,
      phase: round.phase,
      members: running ? [...round.members] : [...round.ready].sort(),
      member,
      group: member ? (round.groups[participant.id] ?? []) : [],
      ...(round.topology && { topology: round.topology }),
      ...(running && { deadlineInMs: Math.max(0, (round.deadlineAt ?? 0) - Date.now()) }),
      participants: this.membersOf(participant.taskId).length,
    };
  }

  /** Tells every participant of the task how the round stands now. */
  private broadcast(taskId: string): void {
    const round = this.byTask.get(taskId);
    if (!round) return;
    for (const participant of this.membersOf(taskId)) {
      const event: PeerServerEvent = { type: 'round', round: this.info(round, participant) };
      queueMicrotask(() => participant.listeners.forEach((l) => l.listener(event)));
    }
  }

  private participant(token: string): Participant {
    const participant = this.participants.get(token);
    if (!participant) throw new DiscoApiError('UNAUTHORIZED', 'unknown participant token: join the task again');
    return participant;
  }
}
