import { DiscoApiError, isApiErrorCode, type BackendName, type DataFileReport, type EvaluationReport, type JoinResult, type PredictionRow, type Scheme, type Task, type TrainingEvent } from '@disco/core';
import type { PortReply, PortRequest } from './port-relay.js';
import type { StoredModelFiles } from '../library/model-store.js';

/**
 * The messages between the elements (main thread) and the training worker. Everything here is
 * structured-cloneable: `File`s, typed arrays and plain objects.
 */

/** TF.js settings sent with every request that needs TF.js. */
export interface BackendSettings {
  wasmPaths?: string;
  backend?: BackendName;
}

/**
 * A data file and its path in the folder it was picked or dropped from (`digits/7/a.png`), which labels
 * images by folder. The path travels beside the `File` because a cloned `File` loses `webkitRelativePath`.
 */
export interface DataFile {
  file: File;
  path: string;
}

/** Where a model to evaluate comes from. */
export type ModelSource = { kind: 'files'; files: StoredModelFiles } | { kind: 'upload'; modelJson: File; weights: File[] };

/** How to continue a prompt (core's `generateTokens` options): `temperature` 0 is greedy; `topK` and `seed` optional. */
export interface GenerationSettings {
  maxTokens: number;
  temperature?: number;
  topK?: number;
  seed?: number;
}

/** Main thread → worker. */
export type WorkerRequest =
  | { type: 'validate'; id: number; files: DataFile[]; task: Task; requireLabels: boolean }
  | {
      type: 'train';
      id: number;
      files: DataFile[];
      task: Task;
      scheme: Scheme;
      backend: BackendSettings;
      /** Local training: epochs (default: the task's whole schedule). Collaborative: rounds (default: the task's). */
      epochs?: number;
      rounds?: number;
      /** Collaborative: a token kept from an earlier session. */
      token?: string;
    }
  | { type: 'stop'; id: number }
  | { type: 'evaluate'; id: number; files: DataFile[]; task: Task; model: ModelSource; backend: BackendSettings }
  | { type: 'predict'; id: number; files: DataFile[]; task: Task; model: ModelSource; backend: BackendSettings }
  /** Language models: continue `prompt`, streaming the text as it is decoded; `stop` (same id) ends it after the current token. */
  | { type: 'generate'; id: number; task: Task; model: ModelSource; prompt: string; settings: GenerationSettings; backend: BackendSettings }
  | PortReply
  | RtcToWorker;

/**
 * The WebRTC relay (see `rtc-relay.ts`): workers have no `RTCPeerConnection`, so the worker's peer
 * connections are stand-ins whose real counterparts live on the main thread. `pc` and `channel` name them;
 * `state` is the connection's state after the call or event, mirrored into the stand-in before it sees
 * the answer or the event.
 */
export interface RtcState {
  signalingState: RTCSignalingState;
  iceConnectionState: RTCIceConnectionState;
  iceGatheringState: RTCIceGatheringState;
  connectionState: RTCPeerConnectionState;
  localDescription: RTCSessionDescriptionInit | null;
  remoteDescription: RTCSessionDescriptionInit | null;
}

/** The `RTCPeerConnection` methods the relay runs for the worker. */
export type RtcMethod = 'createOffer' | 'createAnswer' | 'setLocalDescription' | 'setRemoteDescription' | 'addIceCandidate' | 'getStats';

/** Worker → main thread: WebRTC calls. */
export type RtcToPage =
  | { type: 'rtc-create'; pc: number; config: RTCConfiguration }
  | { type: 'rtc-call'; pc: number; id: number; method: RtcMethod; args: unknown[] }
  | { type: 'rtc-close'; pc: number }
  | { type: 'rtc-channel-create'; pc: number; channel: string; label: string; init: RTCDataChannelInit }
  | { type: 'rtc-channel-threshold'; channel: string; threshold: number }
  | { type: 'rtc-send'; channel: string; data: ArrayBuffer }
  | { type: 'rtc-channel-close'; channel: string };

/** Main thread → worker: WebRTC answers and events. */
export type RtcToWorker =
  | { type: 'rtc-result'; id: number; ok: true; value: unknown; state: RtcState }
  | { type: 'rtc-result'; id: number; ok: false; error: SerializedError; state: RtcState }
  | {
      type: 'rtc-event';
      pc: number;
      event: 'icecandidate' | 'iceconnectionstatechange' | 'icegatheringstatechange' | 'connectionstatechange' | 'signalingstatechange';
      candidate?: RTCIceCandidateInit | null;
      state: RtcState;
    }
  | { type: 'rtc-datachannel'; pc: number; channel: string; label: string; readyState: RTCDataChannelState; state: RtcState }
  | { type: 'rtc-channel-event'; channel: string; event: 'open' | 'close' | 'error' | 'bufferedamountlow'; readyState: RTCDataChannelState; bufferedAmount: number; message?: string }
  | { type: 'rtc-message'; channel: string; data: ArrayBuffer }
  | { type: 'rtc-sent'; channel: string; bytes: number; bufferedAmount: number };

/** Worker → main thread. */
export type WorkerResponse =
  | { type: 'validated'; id: number; reports: DataFileReport[] }
  | { type: 'event'; id: number; event: TrainingEvent }
  | { type: 'examples'; id: number; count: number }
  | { type: 'trained'; id: number; model: StoredModelFiles; samples: number; joined?: Pick<JoinResult, 'participantId' | 'token'> }
  | { type: 'evaluated'; id: number; report: EvaluationReport; classes: string[] }
  | { type: 'predicted'; id: number; rows: PredictionRow[]; classes: string[]; csv: string }
  /** Generated text completed by the latest tokens (whole characters only), and the tokens generated so far. */
  | { type: 'generated-text'; id: number; text: string; tokens: number }
  | { type: 'generated'; id: number; text: string; tokens: number; stopped: boolean }
  | { type: 'failed'; id: number; error: SerializedError }
  | PortRequest
  | RtcToPage;

/** An error as it crosses the worker boundary. */
export interface SerializedError {
  name: string;
  message: string;
  code?: string;
  /** An HTTP status, when the error came from a server (the federated client retries 5xx, not 4xx). */
  status?: number;
  /** A DataError's or API error's details, when known. */
  issues?: unknown[];
}

/** Any thrown value → a {@link SerializedError} (a `DiscoApiError` keeps its code, status and issues). */
export function serializeError(error: unknown): SerializedError {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error) };
  const { code, issues, status } = error as Error & { code?: unknown; issues?: unknown; status?: unknown };
  return {
    name: error.name,
    message: error.message,
    ...(typeof code === 'string' && { code }),
    ...(typeof status === 'number' && { status }),
    ...(Array.isArray(issues) && { issues: structuredClone(issues) as unknown[] }),
  };
}

/** A {@link SerializedError} → the API's `DiscoApiError` again when it was one, else an `Error` with its `name`, `code` and `issues`. */
export function deserializeError(serialized: SerializedError): Error & { code?: string; status?: number; issues?: unknown[] } {
  const { name, code, status, issues } = serialized;
  if (name === 'DiscoApiError' && isApiErrorCode(code)) return new DiscoApiError(code, serialized.message, issues?.map(String), status);
  return Object.assign(new Error(serialized.message), { name, code, status, issues });
}
