export type { FederationApi, JoinResult, RoundInfo, RoundPhase, RoundState, TransferStats } from './federation-api.js';
export { FederatedClient, isTransientError, errorCode, type FederatedClientOptions, type FederatedResult } from './federated.js';
export { LocalClient, trainLocally, holdOut, type LocalTrainingOptions } from './local.js';
export { backoffDelay, sleep, type BackoffOptions } from './session.js';
export { EventChannel } from '../util/event-channel.js';
export { DecentralizedClient, type DecentralizedClientOptions, type DecentralizedResult } from './decentralized.js';
export { absentClasses, lookahead, maskClasses, outputBiasOffset, unmaskClasses, ABSENT_CLASS_OFFSET } from './non-iid.js';
export { DiscoApiError, apiErrorStatus, isApiErrorCode, codeForStatus, type ApiErrorCode } from './api-errors.js';
export { aggregateProblem, checkUpdate, claimedSamples, type CheckedUpdate, type UpdateExpectation } from './check-update.js';
