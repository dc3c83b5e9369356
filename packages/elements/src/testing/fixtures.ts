import type { TaskInput } from '@disco/core';

/** A small tabular task shaped like the built-in Titanic one. */
export const tabularTask: TaskInput = {
  id: 'titanic-test',
  title: 'Titanic survival',
  description: 'Learns **who survived** the sinking of the Titanic from passenger data.',
  dataFormat: 'One row per passenger.',
  sample: 'PassengerId,Survived,Pclass,Sex,Age\n1,0,3,male,22\n2,1,1,female,38',
  dataType: 'tabular',
  tabular: { inputColumns: ['Pclass', 'Sex', 'Age'], outputColumn: 'Survived', labels: ['0', '1'] },
  preprocessing: [
    { type: 'fill-missing', column: 'Age', value: 30 },
    { type: 'one-hot', column: 'Sex', categories: ['male', 'female'] },
  ],
  model: { source: 'builtin', architecture: 'tabular-mlp' },
  scheme: 'federated',
  privacy: { secureAggregation: true, clippingNorm: 1, noiseMultiplier: 0.5, budget: { epsilon: 3, delta: 1e-5 } },
};

/** A small image task. */
export const imageTask: TaskInput = {
  id: 'digits-test',
  title: 'Handwritten digits',
  description: 'Recognises handwritten digits.',
  dataType: 'image',
  image: { width: 28, height: 28, channels: 1, labels: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'] },
  preprocessing: [{ type: 'scale-pixels' }],
  model: { source: 'builtin', architecture: 'mnist-cnn' },
  scheme: 'local',
};
