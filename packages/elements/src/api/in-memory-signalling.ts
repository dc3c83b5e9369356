import type { PeerJoinResult, PeerRoundInfo, PeerServerEvent, PeerSignal, SignallingApi, Task, TransferStats } from '@disco/core';
import { DiscoApiError } from './disco-api.js';

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
  deadlineAt?: number;
}

/**
 * The decentralized signalling of {@link FakeDiscoApi}: introduces the participants of one page to each
 * other, in memory, like the server's peers router does over the network. Rounds are metadata only: a round
 * gathers the participants that say they are ready and runs, all-to-all, once every participant of the
 * task (and at least the task's minimum) is ready. Signals go to participants of the same task only. The
 * models themselves travel over real WebRTC data channels between the page's `<disco-train>` elements.
 */
export class InMemorySignalling implements SignallingApi {
  readonly stats: TransferStats = { bytesSent: 0, bytesReceived: 0 };
  private readonly participants = new Map<string, Participant>();
  private readonly byTask = new Map<string, PeerRound>();
  private counter = 0;

  constructor(
    private readonly taskOf: (taskId: string) => Task | undefined,
    private readonly initialModel: (taskId: string) => Promise<Uint8Array>,
  ) {}

  async join(taskId: string, options: { token?: string } = {}): Promise<PeerJoinResult> {
    const task = this.taskOf(taskId);
    if (!task) throw new DiscoApiError('not-found', `No task "${taskId}" on this server.`);
    if (task.scheme !== 'decentralized') throw new DiscoApiError('invalid', `Task "${taskId}" is ${task.scheme}, not decentralized.`);
    const known = options.token ? this.participants.get(options.token) : undefined;
    const token = known ? options.token! : `fake-peer-${++this.counter}-${crypto.randomUUID()}`;
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
    const bytes = await this.initialModel(taskId);
    this.stats.bytesReceived += bytes.byteLength;
    return bytes;
  }

  async ready(token: string, round: number): Promise<PeerRoundInfo> {
    const participant = this.participant(token);
    const task = this.taskOf(participant.taskId)!;
    let current = this.byTask.get(participant.taskId);
    if (!current || (round > current.round && current.phase === 'running')) {
      current = { round, phase: 'gathering', ready: new Set(), members: [] };
      this.byTask.set(participant.taskId, current);
    }
    if (round === current.round && current.phase === 'gathering') {
      current.ready.add(participant.id);
      const everyone = this.membersOf(participant.taskId).every((p) => current!.ready.has(p.id));
      if (everyone && current.ready.size >= Math.max(1, task.minParticipants)) {
        current.phase = 'running';
        current.members = [...current.ready].sort();
        current.deadlineAt = Date.now() + task.roundDeadlineSeconds * 1000;
      }
      this.broadcast(participant.taskId);
    }
    return this.info(current, participant);
  }

  async signal(token: string, to: string, signal: PeerSignal): Promise<void> {
    const from = this.participant(token);
    const addressee = [...this.participants.values()].find((p) => p.id === to && p.taskId === from.taskId);
    if (!addressee) throw new DiscoApiError('not-found', `No participant "${to}" in this task.`);
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
      group: member ? round.members.filter((id) => id !== participant.id) : [],
      topology: 'all-to-all',
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
    if (!participant) throw new DiscoApiError('unauthorized', 'Unknown participant token; join the task again.');
    return participant;
  }
}
