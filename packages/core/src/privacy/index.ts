// Differential privacy building blocks for client-level DP-FedAvg (docs/decisions/0011-differential-privacy.md):
// clipping, Gaussian noise (central or split among clients), a Rényi-DP accountant, and how rounds apply them (rounds.ts).
export { clipToNorm, type ClipResult } from './clipping.js';
export { cryptoRandom, gaussian, gaussianNoiseStd, splitNoiseStd, survivingNoiseMultiplier, addGaussianNoise } from './noise.js';
export { subsampledGaussianRdp, logErfc } from './rdp.js';
export {
  Accountant,
  computeEpsilon,
  rdpToEpsilon,
  DEFAULT_ORDERS,
  type AccountantState,
  type EpsilonQuery,
  type MechanismSteps,
  type PrivacyBudget,
  type PrivacySpent,
  type RdpConversion,
} from './accountant.js';
export {
  accountRound,
  budgetExhaustedMessage,
  createRoundAggregator,
  firstRoundBudgetIssue,
  formatEpsilon,
  isNoisy,
  privacyState,
  privatizeAggregate,
  roundPrivacy,
  type RoundAccount,
  type RoundAggregator,
  type RoundPrivacy,
} from './rounds.js';
export { createBufferAggregator, type BufferAggregator } from './async-rounds.js';
