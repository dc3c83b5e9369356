import type { DataType, Scheme } from '@disco/core';

/** Names of the data types, for people. */
export const dataTypeLabels: Record<DataType, string> = {
  tabular: 'Table (CSV)',
  image: 'Images',
};

/** Names of the training schemes, for people. */
export const schemeLabels: Record<Scheme, string> = {
  local: 'Local only',
  federated: 'Federated',
  decentralized: 'Decentralized',
};

/** One sentence per scheme that a non-specialist understands. */
export const schemeExplanations: Record<Scheme, string> = {
  local:
    'The model is trained on this device only. Nothing is sent anywhere; nobody else takes part.',
  federated:
    'Every participant trains the model on their own device. Only the resulting model changes (numbers, not your data) go to the server, which averages them into a shared model and sends it back for the next round.',
  decentralized:
    'Every participant trains the model on their own device and exchanges model changes (numbers, not your data) directly with the other participants’ browsers. The server only introduces participants to each other.',
};
