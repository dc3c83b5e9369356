import { css } from 'lit';
import { sharedStyles } from '../styles/shared.styles.js';

export const taskListStyles = [
  sharedStyles,
  css`
    .toolbar {
      display: flex;
      flex-wrap: wrap;
      align-items: center;
      gap: var(--_space);
      margin-bottom: var(--_space);
    }
    [role='listbox'] {
      list-style: none;
      margin: 0;
      padding: 0;
      display: grid;
      gap: var(--_space);
    }
    [role='option'] {
      display: grid;
      grid-template-columns: 1fr auto;
      gap: 0.2rem var(--_space);
      padding: calc(var(--_space) * 1.5);
      border: 1px solid var(--_color-border);
      border-radius: var(--_radius);
      background: var(--_color-surface);
      cursor: pointer;
    }
    [role='option'][aria-selected='true'] {
      border-color: var(--_color-primary);
      box-shadow: inset 4px 0 0 var(--_color-primary);
    }
    [role='option']:hover {
      border-color: var(--_color-primary);
    }
    .title {
      font-weight: 600;
      font-size: 1.05em;
    }
    .facts {
      grid-column: 1 / -1;
      display: flex;
      flex-wrap: wrap;
      gap: 0.25rem 1rem;
      color: var(--_color-muted);
      font-size: 0.92em;
    }
    .badge {
      border: 1px solid currentColor;
      border-radius: 999px;
      padding: 0 0.5em;
      font-size: 0.85em;
      color: var(--_color-muted);
      align-self: start;
    }
  `,
];
