import { parseTask, type Task } from '../schema.js';

/** Handwritten digit recognition on 28×28 grayscale images. */
export const mnist: Task = parseTask({
  id: 'mnist',
  title: 'MNIST: handwritten digits',
  description: [
    'Recognise which digit, 0 to 9, is written in a small black-and-white picture.',
    '',
    'Each participant trains on their own pictures of digits; only the model\'s improvements are shared,',
    'never the pictures.',
  ].join('\n'),
  dataFormat: [
    'Pictures of single digits, **28×28 pixels**, as PNG or JPEG (colour pictures are turned to grey).',
    'Tell Disco which digit each picture shows in one of two ways:',
    '',
    '- **folders**: put the pictures in folders named after the digit (`0/`, `1/`, … `9/`) and pick the parent folder;',
    '- **a labels file**: add a CSV file with the columns `filename,label`, one picture per line.',
    '',
    'The original MNIST files (`train-images-idx3-ubyte` with `train-labels-idx1-ubyte`) are accepted too.',
  ].join('\n'),
  sample: ['digits/0/img_001.png', 'digits/0/img_002.png', 'digits/7/img_003.png', '', 'or, with labels.csv:', 'filename,label', 'img_001.png,0', 'img_003.png,7'].join('\n'),
  dataType: 'image',
  image: { width: 28, height: 28, channels: 1, labels: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'] },
  preprocessing: [{ type: 'scale-pixels' }],
  model: { source: 'builtin', architecture: 'mnist-cnn' },
  // 2 local epochs of batches of 64 at lr 0.004, and Nesterov momentum 0.9 on the server: 0.944 test accuracy
  // after 5 rounds on a label-skewed split of 6,000 digits among 4 clients with no tuning flag (decision 0012).
  training: { epochsPerRound: 2, rounds: 5, batchSize: 64, validationSplit: 0.1, optimizer: 'adam', learningRate: 0.004, seed: 42 },
  scheme: 'federated',
  minParticipants: 2,
  // MNIST has 60,000 training images: no update weighs more than all of them.
  aggregation: { strategy: 'fedavg', maxSamplesPerUpdate: 60000, serverOptimizer: { name: 'momentum', momentum: 0.9, nesterov: true } },
});
