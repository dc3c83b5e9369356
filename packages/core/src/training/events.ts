/**
 * The events of a training session. Local, federated and decentralized sessions all yield these; the CLI
 * prints them as JSON lines and the elements render them. Metrics are `undefined` when not computed.
 */
export interface EpochMetrics {
  loss: number;
  accuracy?: number;
  valLoss?: number;
  valAccuracy?: number;
  /** Language models: exp(loss) and exp(valLoss), the loss being the mean cross-entropy per predicted token. */
  perplexity?: number;
  valPerplexity?: number;
}

/** A session's final figures. */
export interface FinalMetrics {
  /** The final model's accuracy and loss on the participant's held-out data (its training data when it holds none out). */
  accuracy?: number;
  loss?: number;
  /** Language models: exp(loss). */
  perplexity?: number;
  /** Local sessions: the last epoch's figures on the training data. */
  trainAccuracy?: number;
  trainLoss?: number;
}

/**
 * Bytes a session exchanged over the network, as `@disco/client` counts them (request and response bodies
 * and WebSocket messages; the browser's worker reports the page port's count, so the CLI and the elements
 * agree): federated sessions count their traffic with the server; decentralized ones their traffic with
 * peers (framing included), and their signalling apart. Local sessions exchange nothing.
 */
export interface SessionStats {
  bytesSent: number;
  bytesReceived: number;
  /** Decentralized sessions: the traffic with the signalling server. */
  signalling?: { bytesSent: number; bytesReceived: number };
}

/** How a session ended: the one closing event of every session. */
export interface DoneEvent {
  type: 'done';
  metrics: FinalMetrics;
  stats: SessionStats;
  /** True when `stop()` ended the session before its end. */
  stopped: boolean;
  /** Local sessions and trainers: epochs completed. */
  epochs?: number;
  /** Local sessions: examples trained and validated on. */
  examples?: { train: number; validation: number };
  /** Collaborative sessions: the rounds the model went through (federated: the global model version reached). */
  rounds?: number;
  /** Federated sessions: the rounds this participant's update made it into. */
  roundsTrained?: number;
  /** Asynchronous federated sessions: updates this participant submitted that were accepted, and the model version reached. */
  updatesAccepted?: number;
  versions?: number;
  /** Collaborative sessions of a task with secure aggregation: true (every round was masked). */
  secureAggregation?: boolean;
  /** Tasks with differential privacy: the ε spent by the model's rounds, at `delta`. */
  epsilon?: number;
  delta?: number;
  /** True when the session ended because the task's privacy budget was spent (no further round may start). */
  budgetExhausted?: boolean;
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
      /** Tasks with differential privacy: ε spent up to and including this round, at `delta`. */
      epsilon?: number;
      delta?: number;
      /**
       * Asynchronous tasks (one `round` event per version this participant contributed to or saw): how many
       * versions old the base model of this participant's last accepted update was when it arrived.
       */
      staleness?: number;
    }
  | { type: 'participants'; count: number; round?: number }
  /** Decentralized sessions: the peers connected now, those unreachable, and the bytes exchanged with peers. */
  | { type: 'peers'; connected: number; peers: string[]; failed: string[]; bytesSent: number; bytesReceived: number; round?: number }
  | { type: 'log'; level: 'info' | 'warn'; message: string }
  | DoneEvent;

export type TrainingEventType = TrainingEvent['type'];
