/**
 * The events of a training session. Local, federated and decentralized sessions all yield these; the CLI
 * prints them as JSON lines and the elements render them. Metrics are `undefined` when not computed.
 */
export interface EpochMetrics {
  loss: number;
  accuracy?: number;
  valLoss?: number;
  valAccuracy?: number;
}

export type TrainingEvent =
  | ({ type: 'batch'; epoch: number; batch: number; batches: number; round?: number } & Pick<EpochMetrics, 'loss' | 'accuracy'>)
  | ({ type: 'epoch'; epoch: number; epochs: number; round?: number } & EpochMetrics)
  | {
      type: 'round';
      round: number;
      rounds: number;
      /** Metrics of this participant's last local epoch, and of the aggregated clients when known. */
      metrics: EpochMetrics & { aggregated?: EpochMetrics };
      participants: number;
      modelVersion: number;
    }
  | { type: 'participants'; count: number; round?: number }
  /** Decentralized sessions: the peers connected now, those unreachable, and the bytes exchanged with peers. */
  | { type: 'peers'; connected: number; peers: string[]; failed: string[]; bytesSent: number; bytesReceived: number; round?: number }
  | { type: 'privacy'; epsilon: number; delta: number; budgetLeft?: number }
  | { type: 'log'; level: 'info' | 'warn'; message: string }
  | ({ type: 'done'; accuracy?: number; loss?: number; stopped?: boolean } & Record<string, unknown>)
  | { type: 'error'; code: string; message: string };

export type TrainingEventType = TrainingEvent['type'];
