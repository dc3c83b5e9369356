import { css } from 'lit';
import { dropzoneStyles } from '../base/dropzone.js';
import { fieldsetStyles, sharedStyles } from '../styles/shared.styles.js';

export const trainStyles = [
  sharedStyles,
  dropzoneStyles,
  fieldsetStyles,
  css`
    :host {
      --_chart-height: var(--disco-chart-height, 220px);
    }
    section + section {
      margin-top: calc(var(--_space) * 3);
    }
    ul.files {
      list-style: none;
      padding: 0;
      margin: var(--_space) 0 0;
    }
    ul.files li {
      padding: 0.35em 0;
      border-bottom: 1px solid var(--_color-border);
    }
    ul.files .name {
      font-family: ui-monospace, SFMono-Regular, Menlo, monospace;
      font-size: 0.92em;
      word-break: break-all;
    }
    ul.files .error {
      display: block;
      margin-top: 0.15em;
    }
    .preview {
      overflow-x: auto;
      margin-top: var(--_space);
    }
    .preview table {
      font-size: 0.88em;
    }
    .text-preview {
      white-space: pre-wrap;
      font-size: 0.88em;
      max-height: 10em;
      overflow-y: auto;
      margin: 0;
      padding: var(--_space);
      background: var(--_color-surface);
      border-radius: var(--_radius);
    }
    .thumbs {
      display: flex;
      flex-wrap: wrap;
      gap: var(--_space);
      list-style: none;
      padding: 0;
      margin: 0;
    }
    .thumbs img {
      width: 56px;
      height: 56px;
      object-fit: contain;
      image-rendering: pixelated;
      border: 1px solid var(--_color-border);
      background: var(--_color-surface);
    }
    fieldset label {
      font-weight: normal;
      display: block;
    }
    .progress {
      display: grid;
      grid-template-columns: max-content 1fr max-content;
      align-items: center;
      gap: 0.3rem var(--_space);
    }
    .charts {
      display: grid;
      grid-template-columns: repeat(auto-fit, minmax(260px, 1fr));
      gap: calc(var(--_space) * 2);
    }
    .chart {
      position: relative;
      height: var(--_chart-height);
    }
    figure {
      margin: 0;
    }
    figcaption {
      font-weight: 600;
      margin-bottom: 0.25rem;
    }
    .log {
      max-height: 12em;
      overflow-y: auto;
      padding: var(--_space);
      background: var(--_color-surface);
      border: 1px solid var(--_color-border);
      border-radius: var(--_radius);
      font-size: 0.9em;
    }
    .log ol {
      margin: 0;
      padding-left: 1.5em;
    }
    .log .warn {
      color: var(--_color-warning);
    }
    .log .error {
      color: var(--_color-danger);
    }
    .result {
      font-size: 1.1em;
    }
  `,
];
