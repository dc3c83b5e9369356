// Secure aggregation (Bonawitz et al. 2017): fixed-point encoding, key agreement, PRG, Shamir sharing, and the
// client and aggregator of a round. See docs/decisions/0010-secure-aggregation.md.
export { SecureAggregationError, type SecureAggregationErrorCode } from './errors.js';
export {
  addModular,
  decodeSum,
  encodeUpdate,
  fixedPointCode,
  fixedPointScale,
  fromUint32,
  roundStochastic,
  subtractModular,
  sumModular,
  toUint32,
  type DecodedSum,
  type FixedPointCode,
  type FixedPointOptions,
  type WeightedUpdate,
} from './fixed-point.js';
export {
  compareIds,
  contextInfo,
  CURVE,
  deriveSharedSeed,
  exportPrivateScalar,
  generateAgreementKeyPair,
  importPrivateScalar,
  importPublicKey,
  PRIVATE_KEY_BYTES,
  PUBLIC_KEY_BYTES,
  type AgreementContext,
  type AgreementKeyPair,
} from './key-agreement.js';
export { expandSeed, randomSeed, SEED_BYTES } from './prg.js';
export { combineShares, gfDivide, gfMultiply, splitSecret, type Share, type SplitOptions } from './shamir.js';
export { deriveChannelKey, openFromPeer, sealForPeer, type ChannelContext } from './channel.js';
export {
  MIN_SECURE_PARTICIPANTS,
  secureThreshold,
  SecureAggregationClient,
  SecureAggregator,
  type EncryptedShare,
  type KeyAdvertisement,
  type MaskedInput,
  type RevealedShare,
  type SecureAggregatorOptions,
  type SecureClientOptions,
  type SecureRoundOptions,
  type SharesMessage,
  type UnmaskRequest,
  type UnmaskResponse,
} from './masking.js';
export { applySecureSum, prepareSecureUpdate, secureEncoding, type PreparedUpdate, type SecureEncoding } from './prepare.js';
export { decideSecurePhase, type SecurePhase, type SecurePhaseDecision, type SecurePhaseInput } from './phase-policy.js';
export {
  abandonedStep,
  checkMaskedLength,
  checkPublicKey,
  isSecurePhase,
  requireCurrentRound,
  requireSecureTask,
  requireStep,
  SECURE_PHASES,
  SecureRoundState,
  type SecureStepInputs,
  type UnmaskOutcome,
} from './round-state.js';
