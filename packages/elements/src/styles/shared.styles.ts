import { css } from 'lit';
import { themeStyles } from './theme.js';

/**
 * What every element shares after the theme: buttons, form controls, the focus ring, status messages,
 * tables and the visually hidden helper.
 */
export const sharedStyles = [
  themeStyles,
  css`
    *,
    *::before,
    *::after {
      box-sizing: border-box;
    }
    :focus-visible {
      outline: 3px solid var(--_color-focus);
      outline-offset: 2px;
    }
    h2,
    h3,
    h4 {
      margin: 0 0 var(--_space);
      line-height: 1.25;
    }
    p {
      margin: 0 0 var(--_space);
    }
    button,
    .button {
      font: inherit;
      display: inline-flex;
      align-items: center;
      gap: 0.35em;
      padding: 0.4em 0.9em;
      border-radius: var(--_radius);
      border: 1px solid var(--_color-primary);
      background: var(--_color-primary);
      color: var(--_color-on-primary);
      cursor: pointer;
      text-decoration: none;
    }
    button.secondary,
    .button.secondary {
      background: transparent;
      color: var(--_color-primary);
    }
    button.danger {
      background: transparent;
      color: var(--_color-danger);
      border-color: var(--_color-danger);
    }
    button:disabled {
      opacity: 0.55;
      cursor: not-allowed;
    }
    input,
    select,
    textarea {
      font: inherit;
      color: var(--_color-text);
      background: var(--_color-surface);
      border: 1px solid var(--_color-border);
      border-radius: var(--_radius);
      padding: 0.3em 0.5em;
    }
    input[aria-invalid='true'],
    select[aria-invalid='true'],
    textarea[aria-invalid='true'] {
      border-color: var(--_color-danger);
    }
    label {
      font-weight: 600;
    }
    a {
      color: var(--_color-primary);
    }
    .muted {
      color: var(--_color-muted);
    }
    .error {
      color: var(--_color-danger);
      white-space: pre-line;
    }
    .success {
      color: var(--_color-success);
    }
    .warning {
      color: var(--_color-warning);
    }
    [role='alert'].error,
    .error-box {
      border: 1px solid var(--_color-danger);
      border-radius: var(--_radius);
      padding: var(--_space);
      color: var(--_color-danger);
      white-space: pre-line;
    }
    table {
      border-collapse: collapse;
      width: 100%;
    }
    th,
    td {
      text-align: left;
      padding: 0.3em 0.6em;
      border-bottom: 1px solid var(--_color-border);
    }
    th {
      font-weight: 600;
    }
    td.number,
    th.number {
      text-align: right;
      font-variant-numeric: tabular-nums;
    }
    /* Boxes that scroll sideways (wide tables, code) take the width they are given, not their content's:
       on a narrow screen they scroll, not the page. */
    .table-wrap,
    .preview,
    pre {
      contain: inline-size;
      max-width: 100%;
    }
    .table-wrap {
      position: relative; /* holds the visually hidden headers, which would widen the page */
    }
    input,
    select {
      max-width: 100%;
    }
    .visually-hidden {
      position: absolute !important;
      width: 1px;
      height: 1px;
      padding: 0;
      margin: -1px;
      overflow: hidden;
      clip: rect(0 0 0 0);
      white-space: nowrap;
      border: 0;
    }
    .card {
      background: var(--_color-surface);
      border: 1px solid var(--_color-border);
      border-radius: var(--_radius);
      padding: calc(var(--_space) * 2);
    }
    .row {
      display: flex;
      flex-wrap: wrap;
      align-items: center;
      gap: var(--_space);
    }
    .stack > * + * {
      margin-top: calc(var(--_space) * 2);
    }
    progress {
      width: 100%;
      height: 0.8em;
      accent-color: var(--_color-primary);
    }
    code {
      font-family: ui-monospace, SFMono-Regular, Menlo, monospace;
      font-size: 0.9em;
    }
  `,
];

/** Bordered fieldsets with a bold legend, for the option groups of a form (after {@link sharedStyles}). */
export const fieldsetStyles = css`
  fieldset {
    border: 1px solid var(--_color-border);
    border-radius: var(--_radius);
    padding: var(--_space) calc(var(--_space) * 1.5);
    margin: 0 0 var(--_space);
  }
  legend {
    font-weight: 600;
    padding: 0 0.3em;
  }
`;
