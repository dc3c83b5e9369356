import { css } from 'lit';
import { sharedStyles } from '../styles/shared.styles.js';

export const modelLibraryStyles = [
  sharedStyles,
  css`
    .table-wrap {
      overflow-x: auto;
    }
    td.actions {
      white-space: nowrap;
    }
    td.actions button {
      padding: 0.2em 0.6em;
      font-size: 0.92em;
    }
    td.actions button + button {
      margin-left: 0.3em;
    }
    caption {
      text-align: left;
      font-weight: 600;
      padding-bottom: var(--_space);
    }
  `,
];
