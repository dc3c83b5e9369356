/**
 * A model that does not fit its task, or weights that do not fit their model. The message says exactly
 * what differs, e.g. `model input shape [null,10] does not match the task: expected [null,9]`.
 */
export class ModelError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelError';
  }
}
