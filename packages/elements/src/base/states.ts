import { msg } from '@lit/localize';
import { html, nothing, type TemplateResult } from 'lit';
import { DiscoApiError } from '@disco/core';

/** The message of any error, for people. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return typeof error === 'string' ? error : msg('Something went wrong.', { id: 'error.unknown' });
}

/** The `disco-error` code of any error: the server's refusals map onto the few codes pages switch on. */
export function errorCode(error: unknown, fallback = 'api'): string {
  if (error instanceof DiscoApiError) return error.code === 'NOT_FOUND' ? 'not-found' : error.code === 'UNAUTHORIZED' || error.code === 'FORBIDDEN' ? 'unauthorized' : 'api';
  if (error && typeof error === 'object' && 'code' in error && typeof error.code === 'string') return error.code;
  return fallback;
}

/** A polite, announced loading line. */
export function renderLoading(label: string): TemplateResult {
  return html`<p role="status" part="loading" class="muted">${label}</p>`;
}

/** An announced error box with an optional retry button. */
export function renderError(error: unknown, retry?: () => void): TemplateResult {
  return html`<div role="alert" part="error" class="error-box">
    ${errorMessage(error)}
    ${retry ? html`<div><button type="button" class="secondary" @click=${retry}>${msg('Try again', { id: 'action.retry' })}</button></div>` : nothing}
  </div>`;
}

/** Formats a metric in [0, 1] as a percentage, or a dash. */
export function percent(value: number | undefined, digits = 1): string {
  return value === undefined || Number.isNaN(value) ? '–' : `${(value * 100).toFixed(digits)} %`;
}

/** Formats a loss-like number, or a dash. */
export function decimal(value: number | undefined, digits = 3): string {
  return value === undefined || Number.isNaN(value) ? '–' : value.toFixed(digits);
}

/** Formats a number of bytes for people: `512 B`, `3.4 KB`, `1.2 MB`. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}
