import { css } from 'lit';
import { sharedStyles } from '../styles/shared.styles.js';

export const taskStyles = [
  sharedStyles,
  css`
    section + section {
      margin-top: calc(var(--_space) * 3);
    }
    .description :is(h1, h2, h3) {
      font-size: 1.05em;
    }
    .description,
    .format {
      overflow-x: auto; /* a wide table of the markdown scrolls by itself on a narrow screen */
      contain: inline-size;
    }
    .description table,
    .format table {
      margin: var(--_space) 0;
    }
    dl {
      display: grid;
      grid-template-columns: max-content 1fr;
      gap: 0.25rem 1rem;
      margin: 0 0 var(--_space);
    }
    dt {
      font-weight: 600;
    }
    dd {
      margin: 0;
    }
    pre {
      background: var(--_color-surface);
      border: 1px solid var(--_color-border);
      border-radius: var(--_radius);
      padding: var(--_space);
      overflow: auto;
      margin: 0;
    }
    figure {
      margin: 0;
    }
    figcaption {
      color: var(--_color-muted);
      font-size: 0.92em;
      margin-bottom: 0.25rem;
    }
    ul.privacy {
      padding-left: 1.2em;
      margin: 0;
    }
    ul.privacy li + li {
      margin-top: var(--_space);
    }
    .labels {
      display: flex;
      flex-wrap: wrap;
      gap: 0.3rem;
      padding: 0;
      margin: 0;
      list-style: none;
    }
    .labels li {
      border: 1px solid var(--_color-border);
      border-radius: 999px;
      padding: 0 0.6em;
    }
  `,
];
