import type { TransferStats } from '../client/federation-api.js';
import type { Task } from '../task/schema.js';
import type { TopologyName } from './topology.js';
import type { IceServer, PeerSignal } from './types.js';

/**
 * The port through which a {@link DecentralizedClient} talks to the signalling server: joining, round
 * coordination and WebRTC signals. Metadata only: models travel between peers. `@disco/api/client`
 * implements it over tRPC (`createSignallingApi`); tests may implement it in memory.
 */

/** A round of a decentralized task, as one participant sees it. */
export interface PeerRoundInfo {
  taskId: string;
  round: number;
  /** `gathering`: peers announce they are ready; `running`: the members are fixed and training. */
  phase: 'gathering' | 'running';
  /** Participants ready so far (gathering) or the members (running), sorted. */
  members: string[];
  /** Running rounds: whether the participant who asked is a member. */
  member: boolean;
  /** Running rounds, members only: the peers whose models this participant aggregates with its own. */
  group: string[];
  topology?: TopologyName;
  /** Running rounds: milliseconds left before members stop waiting for each other's models. */
  deadlineInMs?: number;
  /** Gathering rounds: milliseconds left before the round starts with whoever is ready (if enough). */
  startsInMs?: number;
  /** Participants active in the task now. */
  participants: number;
}

export type PeerServerEvent = { type: 'signal'; from: string; signal: PeerSignal } | { type: 'round'; round: PeerRoundInfo };

export interface PeerJoinResult {
  participantId: string;
  /** Unguessable bearer token bound to this task. */
  token: string;
  task: Task;
  /** STUN/TURN servers configured on the server (`disco serve --ice-server`); none on loopback. */
  iceServers: IceServer[];
  /** The task's latest round, or null before the first. */
  round: PeerRoundInfo | null;
  /** Send a heartbeat this often. */
  heartbeatIntervalMs: number;
}

export interface SignallingApi {
  /** Joins a decentralized task (or rejoins with a kept token). */
  join(taskId: string, options?: { token?: string }): Promise<PeerJoinResult>;
  /** Keeps the participant active (it counts in round gathering while it beats). */
  heartbeat(token: string): Promise<void>;
  /** The task's initial model (version 0, built by the server from the task), in the weights codec. */
  downloadInitialModel(taskId: string): Promise<Uint8Array>;
  /**
   * Says this participant holds the model after `round − 1` and is ready to train `round`; `metrics` are
   * its metrics after the previous round (for the round history). Returns the round as it stands.
   */
  ready(token: string, round: number, metrics?: Record<string, number>): Promise<PeerRoundInfo>;
  /** Sends a signal to another participant of the same task (refused for anyone else). */
  signal(token: string, to: string, signal: PeerSignal): Promise<void>;
  /** Signals addressed to this participant, and its view of the task's latest round at every change. */
  watch(token: string, listener: (event: PeerServerEvent) => void, onError?: (error: Error) => void): () => void;
  leave(token: string): Promise<void>;
  /** Bytes exchanged with the server (signalling), not with peers. */
  readonly stats: TransferStats;
  close(): void;
}
