import { css } from 'lit';
import { dropzoneStyles } from '../base/dropzone.js';
import { fieldsetStyles, sharedStyles } from '../styles/shared.styles.js';

export const evaluateStyles = [
  sharedStyles,
  dropzoneStyles,
  fieldsetStyles,
  css`
    section + section {
      margin-top: calc(var(--_space) * 3);
    }
    fieldset > label {
      font-weight: normal;
      display: block;
      margin-bottom: 0.25rem;
    }
    .accuracy {
      font-size: 2em;
      font-weight: 700;
      color: var(--_color-primary);
    }
    .table-wrap {
      overflow-x: auto;
    }
    table.confusion td {
      text-align: center;
      font-variant-numeric: tabular-nums;
    }
    table.confusion td.diagonal {
      font-weight: 700;
      color: var(--_color-success);
    }
    .misclassified {
      display: grid;
      grid-template-columns: repeat(auto-fill, minmax(120px, 1fr));
      gap: var(--_space);
      list-style: none;
      padding: 0;
      margin: 0;
    }
    .misclassified li {
      border: 1px solid var(--_color-border);
      border-radius: var(--_radius);
      padding: 0.4rem;
      font-size: 0.88em;
      background: var(--_color-surface);
    }
    .misclassified img {
      display: block;
      width: 64px;
      height: 64px;
      object-fit: contain;
      image-rendering: pixelated;
      margin-bottom: 0.25rem;
    }
    .source {
      word-break: break-all;
      color: var(--_color-muted);
    }
    textarea#prompt {
      display: block;
      width: 100%;
      box-sizing: border-box;
      margin: 0.25rem 0 var(--_space);
    }
    .generation-settings {
      display: grid;
      grid-template-columns: repeat(auto-fill, minmax(140px, 1fr));
      gap: var(--_space);
      margin-bottom: var(--_space);
    }
    .generation-settings .field {
      display: flex;
      flex-direction: column;
      gap: 0.2rem;
    }
    .generation {
      white-space: pre-wrap;
      margin-top: var(--_space);
      padding: var(--_space);
      border: 1px solid var(--_color-border);
      border-radius: var(--_radius);
      background: var(--_color-surface);
      max-height: 24em;
      overflow-y: auto;
    }
    .generation .prompt-echo {
      color: var(--_color-muted);
    }
    ul.files {
      list-style: none;
      padding: 0;
      margin: var(--_space) 0 0;
    }
  `,
];
