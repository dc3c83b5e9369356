/**
 * Why a secure-aggregation step refused to go on:
 * - `below-threshold`: fewer than t participants are left at a step that needs t; the round is abandoned and
 *   nothing is unmasked.
 * - `double-reveal`: the aggregator asked a client for both the self-mask share and the mask-key share of the
 *   same participant in one round (what would unmask that participant's update); the client refuses.
 * - `protocol`: a message out of order, for another round, from an unknown participant, malformed or forged.
 * - `range`: an option or an input outside what the fixed-point encoding can sum without overflow.
 */
export type SecureAggregationErrorCode = 'below-threshold' | 'double-reveal' | 'protocol' | 'range';

/** The one error the secure-aggregation library throws; `code` says why (see {@link SecureAggregationErrorCode}). */
export class SecureAggregationError extends Error {
  /** Why the step refused to go on. */
  readonly code: SecureAggregationErrorCode;

  /** @param code why the step refused; @param message a sentence naming the numbers or participants involved. */
  constructor(code: SecureAggregationErrorCode, message: string) {
    super(message);
    this.name = 'SecureAggregationError';
    this.code = code;
  }
}
