import { parseTask, type Task } from '../schema.js';

/** The ten CIFAR-10 classes, in the order of the data set's label bytes. */
export const cifar10Classes = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];

/** Object recognition on 32×32 colour images (CIFAR-10). */
export const cifar10: Task = parseTask({
  id: 'cifar10',
  title: 'CIFAR-10: what is in the picture?',
  description: [
    'Tell which of ten kinds of thing a small colour picture shows: an airplane, a car, a bird, a cat, a deer,',
    'a dog, a frog, a horse, a ship or a truck.',
    '',
    'Participants train together on their own pictures; the pictures never leave their devices.',
  ].join('\n'),
  dataFormat: [
    'Colour pictures of **32×32 pixels**, as PNG or JPEG, labelled with one of:',
    `${cifar10Classes.map((c) => `\`${c}\``).join(', ')}.`,
    '',
    '- **folders**: one folder per class (`cat/`, `dog/`, …) holding its pictures;',
    '- **a labels file**: a CSV file with the columns `filename,label`;',
    '- **the CIFAR-10 binary files** (`data_batch_1.bin` … `data_batch_5.bin`, `test_batch.bin`).',
  ].join('\n'),
  sample: ['pictures/cat/0001.png', 'pictures/ship/0002.png', '', 'or, with labels.csv:', 'filename,label', '0001.png,cat', '0002.png,ship'].join('\n'),
  dataType: 'image',
  image: { width: 32, height: 32, channels: 3, labels: cifar10Classes },
  preprocessing: [{ type: 'scale-pixels' }],
  model: { source: 'builtin', architecture: 'cifar10-cnn' },
  training: { epochsPerRound: 1, rounds: 10, batchSize: 32, validationSplit: 0.1, optimizer: 'adam', learningRate: 0.001, seed: 42 },
  scheme: 'federated',
  minParticipants: 2,
  // CIFAR-10 has 50,000 training pictures: no update weighs more than all of them.
  aggregation: { strategy: 'fedavg', maxSamplesPerUpdate: 50000 },
});
