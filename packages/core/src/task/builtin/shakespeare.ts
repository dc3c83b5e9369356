import { parseTask, type Task } from '../schema.js';

/** Training windows in the bundled plays (Caesar and Hamlet: 87,574 GPT-2 tokens) at the task's context length of 64. */
const TRAINING_WINDOWS = 1369;

/**
 * A small GPT-2-style language model trained together on three Shakespeare plays (`assets/shakespeare`):
 * the showcase of training a transformer across browsers.
 */
export const shakespeare: Task = parseTask({
  id: 'shakespeare',
  title: 'Shakespeare: a language model',
  description: [
    'Train a small language model, the kind of network behind GPT-2, to continue text in the style of Shakespeare:',
    'given the words so far, it learns to predict the next one.',
    '',
    'Each participant trains on their own texts; only the model\'s improvements are shared, never the texts.',
    'Its progress is measured by the **perplexity** on a play it never trains on (Macbeth): roughly, among how many',
    'equally likely next words the model still hesitates. An untrained model hesitates among all 50,257 words',
    'and pieces of words it knows; every round should bring that number down.',
    '',
    'Once trained, give it the beginning of a line and let it write the rest.',
  ].join('\n'),
  dataFormat: [
    'One or more **plain text files** (`.txt`, UTF-8; ASCII is UTF-8 too): plays, poems, letters. Any English text',
    'works; text in the style of the others (Early Modern English, dialogue with speakers\' names) helps most.',
    '',
    'The text is cut into pieces of 64 word pieces (GPT-2 tokens, about 45 words) and the model learns to predict',
    'each next piece. Several files are read one after the other. A file with no text, a file that is not text',
    '(a picture, a Word document: save it as plain text) and a file in another encoding than UTF-8 are refused with',
    'their name.',
  ].join('\n'),
  sample: [
    'hamlet.txt:',
    '',
    '  Ham. To be, or not to be, that is the Question:',
    'Whether \'tis Nobler in the minde to suffer',
    'The Slings and Arrowes of outragious Fortune,',
    'Or to take Armes against a Sea of troubles,',
  ].join('\n'),
  dataType: 'text',
  text: { tokenizer: 'gpt2', contextLength: 64 },
  model: { source: 'builtin', architecture: 'gpt', gpt: { size: 'nano', dropout: 0 } },
  // Context 64, batch 8: one nano step reads 512 tokens, whose logits over 50,257 tokens dominate its cost (several
  // seconds on a busy 2-core wasm machine; 128 tokens doubled it). Measured on the first 32 windows of Macbeth from
  // the untrained 50,588: centralized, adam 0.002, 4 steps 34,607, 8 steps 22,436, 16 steps 8,326 (6×), 24 steps 3,204
  // (16×); `disco simulate --clients 2 --rounds 4 --train-limit 64 --test-limit 32` (4 steps per client and round):
  // test perplexity 35,173 / 23,629 / 15,504 / 10,082 after rounds 1–4 (5.0×), 739 s on that machine.
  training: { epochsPerRound: 1, rounds: 4, batchSize: 8, validationSplit: 0.1, optimizer: 'adam', learningRate: 0.002, seed: 42 },
  scheme: 'federated',
  minParticipants: 2,
  // No update weighs more than every training window there is.
  aggregation: { strategy: 'fedavg', maxSamplesPerUpdate: TRAINING_WINDOWS },
});
