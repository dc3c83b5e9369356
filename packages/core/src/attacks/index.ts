// Byzantine participants for simulations and robustness tests (issue 10): attacks on updates, label flipping,
// and the port wrapper through which an attacker takes part like anyone else.
export { attackNames, updateAttacks, defaultAttackParameter, signFlip, gaussianUpdate, alie, alieZ, ipm, coordinateMoments, inverseNormalCdf, type AttackName, type UpdateAttackName } from './update-attacks.js';
export { attackUpdate, byzantineApi, Collusion, INFLATED_SAMPLES, type ByzantineOptions } from './byzantine-api.js';
export { flipLabels } from './label-flip.js';
