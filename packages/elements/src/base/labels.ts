import { msg } from '@lit/localize';
import type { DataType, Scheme } from '@disco/core';

// Getters, so that each read is in the page's current language.

/** Names of the data types, for people. */
export const dataTypeLabels: Record<DataType, string> = {
  get tabular() {
    return msg('Table (CSV)', { id: 'label.tabular' });
  },
  get image() {
    return msg('Images', { id: 'label.image' });
  },
  get text() {
    return msg('Text (.txt)', { id: 'label.text' });
  },
};

/** Names of the training schemes, for people. */
export const schemeLabels: Record<Scheme, string> = {
  get local() {
    return msg('Local only', { id: 'label.local' });
  },
  get federated() {
    return msg('Federated', { id: 'label.federated' });
  },
  get decentralized() {
    return msg('Decentralized', { id: 'label.decentralized' });
  },
};

/** One sentence per scheme that a non-specialist understands. */
export const schemeExplanations: Record<Scheme, string> = {
  get local() {
    return msg('The model is trained on this device only. Nothing is sent anywhere; nobody else takes part.', { id: 'explain.local' });
  },
  get federated() {
    return msg(
      'Every participant trains the model on their own device. Only the resulting model changes (numbers, not your data) go to the server, which averages them into a shared model and sends it back for the next round.',
      { id: 'explain.federated' },
    );
  },
  get decentralized() {
    return msg(
      'Every participant trains the model on their own device and exchanges model changes (numbers, not your data) directly with the other participants’ browsers. The server only introduces participants to each other.',
      { id: 'explain.decentralized' },
    );
  },
};
