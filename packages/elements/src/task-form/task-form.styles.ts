import { css } from 'lit';
import { sharedStyles } from '../styles/shared.styles.js';

export const taskFormStyles = [
  sharedStyles,
  css`
    form > fieldset {
      border: 1px solid var(--_color-border);
      border-radius: var(--_radius);
      padding: calc(var(--_space) * 1.5) calc(var(--_space) * 2);
      margin: 0 0 calc(var(--_space) * 2);
    }
    legend {
      font-weight: 700;
      padding: 0 0.3em;
    }
    .grid {
      display: grid;
      grid-template-columns: repeat(auto-fill, minmax(210px, 1fr));
      gap: calc(var(--_space) * 1.5) calc(var(--_space) * 2);
    }
    .field {
      display: flex;
      flex-direction: column;
      gap: 0.2rem;
      margin-bottom: var(--_space);
    }
    .field.wide {
      grid-column: 1 / -1;
    }
    .field input,
    .field select,
    .field textarea {
      width: 100%;
    }
    .hint {
      color: var(--_color-muted);
      font-size: 0.88em;
    }
    .field .error {
      font-size: 0.9em;
    }
    .steps {
      border: 0;
      padding: 0;
      margin: var(--_space) 0 0;
      min-width: 0;
    }
    .steps > legend {
      padding: 0;
      margin-bottom: var(--_space);
    }
    .presets {
      display: grid;
      gap: var(--_space);
      border: 0;
      padding: 0;
      margin: 0 0 var(--_space);
    }
    .presets label {
      font-weight: normal;
      display: flex;
      gap: 0.5em;
      align-items: baseline;
    }
    .presets .hint {
      display: block;
    }
    .statement ul {
      margin: 0;
      padding-left: 1.2em;
    }
    .step {
      display: grid;
      grid-template-columns: repeat(auto-fill, minmax(150px, 1fr));
      gap: var(--_space);
      align-items: end;
      padding: var(--_space);
      border: 1px solid var(--_color-border);
      border-radius: var(--_radius);
      margin-bottom: var(--_space);
    }
    .step .field {
      margin: 0;
    }
    details summary {
      cursor: pointer;
      font-weight: 600;
      margin: var(--_space) 0;
    }
    .checkbox {
      flex-direction: row;
      align-items: center;
      gap: 0.5em;
    }
    .checkbox label {
      font-weight: normal;
    }
    .checkbox input {
      width: auto;
    }
    .summary {
      margin-bottom: calc(var(--_space) * 2);
    }
    .summary ul {
      margin: 0.3em 0 0;
      padding-left: 1.2em;
    }
  `,
];
