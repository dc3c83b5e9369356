import { parseTask, type Task } from '../schema.js';

/**
 * Statistics of the 1,309 passengers in `assets/titanic/titanic.csv`, computed once and fixed in the task
 * so that every participant encodes its data alike (a participant's own statistics would differ).
 * Age and log(1 + Fare) are standardized after their missing values are filled with the medians.
 * Standard deviations are the population ones (divided by n). `relatives` is SibSp + Parch of each
 * passenger; recompute with e.g. Python's `statistics.mean` / `statistics.pstdev` over the CSV's rows.
 */
const stats = {
  ageMedian: 28,
  ageMean: 29.5032,
  ageStd: 12.9003,
  fareMedian: 14.4542,
  logFareMean: 2.9792,
  logFareStd: 0.968,
  sibSpMean: 0.4989,
  sibSpStd: 1.0413,
  parchMean: 0.385,
  parchStd: 0.8652,
  relativesMean: 0.8839,
  relativesStd: 1.583,
};

/** Titanic survival: a small tabular classification, the "hello world" of Disco. */
export const titanic: Task = parseTask({
  id: 'titanic',
  title: 'Titanic: who survived?',
  description: [
    'Predict whether a passenger of the Titanic survived its sinking in 1912, from facts on their ticket:',
    'travel class, sex, title (Mr, Mrs, Miss, Master), age, relatives on board, the fare paid, the port where they',
    'boarded and whether their cabin is known.',
    '',
    'Each participant holds a part of the passenger list. Together you train one model without anyone',
    'sending their rows to anyone else: only what the model learned travels.',
  ].join('\n'),
  dataFormat: [
    'A **CSV file** (comma-separated, first line = column names), one passenger per line, with at least these columns:',
    '',
    '| column | meaning | values |',
    '| --- | --- | --- |',
    '| `Pclass` | ticket class | `1`, `2` or `3` |',
    '| `Name` | name, as `Surname, Title. First names` | e.g. `Allen, Miss. Elisabeth Walton`; only the title is used |',
    '| `Sex` | sex | `female` or `male` |',
    '| `Age` | age in years | a number; may be empty |',
    '| `SibSp` | siblings and spouses on board | a whole number |',
    '| `Parch` | parents and children on board | a whole number |',
    '| `Fare` | ticket price in pounds | a number; may be empty |',
    '| `Cabin` | cabin number(s) | e.g. `B5`; may be empty (unknown): only whether it is known is used |',
    '| `Embarked` | port of embarkation | `C` (Cherbourg), `Q` (Queenstown) or `S` (Southampton); may be empty |',
    '| `Survived` | the answer: `1` survived, `0` did not | needed to train, not to predict |',
    '',
    "Other columns (e.g. `PassengerId`, `Ticket`) are ignored. This is the layout of Kaggle's `train.csv`.",
    'Empty ages and fares are replaced by typical values (28 years, £14.45) and an empty port by `S`. A title other',
    'than Mr, Mrs, Miss or Master (Dr, Rev, Col…) counts as "rare"; SibSp + Parch also counts as relatives on board.',
  ].join('\n'),
  sample: [
    'PassengerId,Survived,Pclass,Name,Sex,Age,SibSp,Parch,Ticket,Fare,Cabin,Embarked',
    '1,1,1,"Allen, Miss. Elisabeth Walton",female,29,0,0,24160,211.3375,B5,S',
    '2,1,1,"Allison, Master. Hudson Trevor",male,0.9167,1,2,113781,151.55,C22 C26,S',
    '3,0,1,"Allison, Miss. Helen Loraine",female,2,1,2,113781,151.55,C22 C26,S',
  ].join('\n'),
  dataType: 'tabular',
  tabular: {
    // Title, Relatives and NoCabin are derived from the Name, SibSp + Parch and Cabin columns (steps below).
    inputColumns: ['Pclass', 'Sex', 'Age', 'SibSp', 'Parch', 'Fare', 'Embarked', 'Title', 'Relatives', 'NoCabin'],
    outputColumn: 'Survived',
    labels: ['0', '1'],
  },
  preprocessing: [
    { type: 'one-hot', column: 'Pclass', categories: ['1', '2', '3'] },
    { type: 'one-hot', column: 'Sex', categories: ['female', 'male'] },
    { type: 'fill-missing', column: 'Age', value: stats.ageMedian },
    { type: 'standardize', column: 'Age', mean: stats.ageMean, std: stats.ageStd },
    { type: 'standardize', column: 'SibSp', mean: stats.sibSpMean, std: stats.sibSpStd },
    { type: 'standardize', column: 'Parch', mean: stats.parchMean, std: stats.parchStd },
    { type: 'fill-missing', column: 'Fare', value: stats.fareMedian },
    // Fares are very skewed (£0 to £512): the logarithm makes them usable by a small network.
    { type: 'log1p', column: 'Fare' },
    { type: 'standardize', column: 'Fare', mean: stats.logFareMean, std: stats.logFareStd },
    { type: 'fill-missing', column: 'Embarked', value: 'S' },
    { type: 'one-hot', column: 'Embarked', categories: ['C', 'Q', 'S'] },
    // The title tells boys (Master) from men and unmarried from married women: it is the strongest cue after sex.
    { type: 'extract', from: 'Name', pattern: String.raw`,\s*(Mr|Mrs|Miss|Master)\.`, into: 'Title' },
    { type: 'fill-missing', column: 'Title', value: 'rare' },
    { type: 'one-hot', column: 'Title', categories: ['Mr', 'Mrs', 'Miss', 'Master', 'rare'] },
    { type: 'sum', from: ['SibSp', 'Parch'], into: 'Relatives' },
    { type: 'standardize', column: 'Relatives', mean: stats.relativesMean, std: stats.relativesStd },
    // Most cabins are unknown (1,014 of 1,309), far more often in third class and among those who died.
    { type: 'is-missing', from: 'Cabin', into: 'NoCabin' },
  ],
  // A small network: a wider one ([32, 16], learning rate 0.01) overfits the ~1,000 training passengers (0.78 → 0.80 on
  // held-out passengers, averaged over 6 seeded 80/20 splits).
  model: { source: 'builtin', architecture: 'tabular-mlp', hiddenUnits: [16] },
  training: { epochsPerRound: 5, rounds: 6, batchSize: 32, validationSplit: 0.2, optimizer: 'adam', learningRate: 0.005, seed: 42 },
  scheme: 'federated',
  minParticipants: 2,
  // No participant weighs more than every passenger there is (1,309): a larger claim is refused.
  aggregation: { strategy: 'fedavg', maxSamplesPerUpdate: 1309 },
});
