import { parseTask, type Task } from '../schema.js';

/**
 * Statistics of the 1,309 passengers in `assets/titanic/titanic.csv`, computed once and fixed in the task
 * so that every participant encodes its data alike (a participant's own statistics would differ).
 * Age and log(1 + Fare) are standardized after their missing values are filled with the medians.
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
};

/** Titanic survival: a small tabular classification, the "hello world" of Disco. */
export const titanic: Task = parseTask({
  id: 'titanic',
  title: 'Titanic: who survived?',
  description: [
    'Predict whether a passenger of the Titanic survived its sinking in 1912, from facts on their ticket:',
    'travel class, sex, age, relatives on board, the fare paid and the port where they boarded.',
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
    '| `Sex` | sex | `female` or `male` |',
    '| `Age` | age in years | a number; may be empty |',
    '| `SibSp` | siblings and spouses on board | a whole number |',
    '| `Parch` | parents and children on board | a whole number |',
    '| `Fare` | ticket price in pounds | a number; may be empty |',
    '| `Embarked` | port of embarkation | `C` (Cherbourg), `Q` (Queenstown) or `S` (Southampton); may be empty |',
    '| `Survived` | the answer: `1` survived, `0` did not | needed to train, not to predict |',
    '',
    "Other columns (e.g. `Name`, `Ticket`, `Cabin`) are ignored. This is the layout of Kaggle's `train.csv`.",
    'Empty ages and fares are replaced by typical values (28 years, £14.45) and an empty port by `S`.',
  ].join('\n'),
  sample: [
    'PassengerId,Survived,Pclass,Name,Sex,Age,SibSp,Parch,Ticket,Fare,Cabin,Embarked',
    '1,1,1,"Allen, Miss. Elisabeth Walton",female,29,0,0,24160,211.3375,B5,S',
    '2,1,1,"Allison, Master. Hudson Trevor",male,0.9167,1,2,113781,151.55,C22 C26,S',
    '3,0,1,"Allison, Miss. Helen Loraine",female,2,1,2,113781,151.55,C22 C26,S',
  ].join('\n'),
  dataType: 'tabular',
  tabular: {
    inputColumns: ['Pclass', 'Sex', 'Age', 'SibSp', 'Parch', 'Fare', 'Embarked'],
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
  ],
  model: { source: 'builtin', architecture: 'tabular-mlp', hiddenUnits: [32, 16] },
  training: { epochsPerRound: 5, rounds: 6, batchSize: 32, validationSplit: 0.2, optimizer: 'adam', learningRate: 0.01, seed: 42 },
  scheme: 'federated',
  minParticipants: 2,
});
