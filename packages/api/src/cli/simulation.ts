// What the simulations of both schemes share (`disco simulate`, `--scheme decentralized`): the task as
// the simulation runs it, its own in-process server, and draining a session to its `done`.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { DoneEvent, Task, TrainingEvent } from '@disco/core';

/** Settings of the simulation's own task; omitted ones keep the built-in task's. */
export interface SimulationSettings {
  clients: number;
  rounds: number;
  epochs?: number;
  batchSize?: number;
  learningRate?: number;
}

/**
 * The built-in task as the simulation's own server runs it: `rounds` rounds, the local training settings
 * asked for, and no more participants required than there are clients (else no round could ever close).
 */
export function simulationTask(task: Task, { clients, rounds, epochs, batchSize, learningRate }: SimulationSettings): Task {
  return {
    ...task,
    scheme: 'federated',
    minParticipants: Math.min(task.minParticipants, clients),
    training: {
      ...task.training,
      rounds,
      ...(epochs !== undefined && { epochsPerRound: epochs }),
      ...(batchSize !== undefined && { batchSize }),
      ...(learningRate !== undefined && { learningRate }),
    },
  };
}

/** The simulation's own in-process server. */
export interface OwnServer {
  url: string;
  close(): Promise<void>;
}

/** A server in this process, on a free port, with a temporary SQLite file removed on close. */
export async function startOwnServer(task: Task): Promise<OwnServer> {
  const { startServer } = await import('../server.js');
  const dir = await mkdtemp(path.join(tmpdir(), 'disco-simulate-'));
  const server = await startServer({ port: 0, dbPath: path.join(dir, 'disco.sqlite'), builtinTasks: [task] });
  return {
    url: server.url,
    async close() {
      await server.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Runs a session to its end; returns its `done` event. */
export async function drain(session: AsyncIterable<TrainingEvent>): Promise<DoneEvent | undefined> {
  let done: DoneEvent | undefined;
  for await (const event of session) if (event.type === 'done') done = event;
  return done;
}
