import { formatEpsilon, type PrivacySpentState, type Task } from '@disco/core';

/** The privacy settings a statement can be about, by their name in the task's `privacy`. */
export type EnforcedSetting = 'secureAggregation' | 'clippingNorm' | 'noiseMultiplier' | 'samplingRate' | 'budget';

/** A task's privacy, in plain language. */
export interface PrivacyStatement {
  /** What leaves the participant's device. */
  leavesDevice: string;
  /** One sentence per setting the task sets and the code enforces, in reading order. */
  enforced: { setting: EnforcedSetting; text: string }[];
  /** What the task does not protect. Empty for local tasks. */
  notProtected: string[];
}

/**
 * Explains what a task does with a participant's data, for people who are not specialists: one statement per
 * privacy setting the task enforces, and what stays unprotected. Every sentence follows from the code that runs
 * the task (decisions 0010 and 0011):
 * - secure aggregation: each participant clips its change to `clippingNorm`, (under noise) adds its share of
 *   the noise, and masks it; the aggregator unmasks only a sum of a strict majority of the round's roster, or
 *   abandons the round (`secure/prepare.ts`, `secure/phase-policy.ts`);
 * - without it, in federated tasks, the server clips and adds the noise to the sum (`privacy/rounds.ts`);
 * - with noise, every closed round is one step of the Rényi-DP accountant, and a budget stops the rounds
 *   before ε would exceed it.
 * A setting that the task's scheme does not enforce (clipping in a decentralized task without secure
 * aggregation) is not mentioned.
 */
export function describePrivacy(task: Task): PrivacyStatement {
  if (task.scheme === 'local')
    return { leavesDevice: 'Nothing leaves your device: your files are read and the model is trained in this browser only.', enforced: [], notProtected: [] };
  const federated = task.scheme === 'federated';
  const { secureAggregation: secure, clippingNorm: clip, samplingRate, delta, budget } = task.privacy;
  const z = task.privacy.noiseMultiplier ?? 0;
  const noisy = z > 0 && clip !== undefined;
  const recipients = federated ? 'the server' : 'the other participants';
  const enforced: PrivacyStatement['enforced'] = [];
  const notProtected: string[] = [];

  const leavesDevice = secure
    ? `Your files never leave your device. After each round, only the change your training made to the model (a list of numbers) is sent to ${recipients}, masked${
        noisy ? '' : `, together with how many examples you trained on (counted up to ${task.aggregation.maxSamplesPerUpdate}), masked the same way`
      }.${federated ? ' Your training scores stay on your device.' : ''}`
    : `Your files never leave your device. After each round, only the change your training made to the model (a list of numbers) is sent to ${recipients}, together with how many examples you trained on and your training scores.`;

  if (secure) {
    const majority = Math.floor(task.minParticipants / 2) + 1;
    enforced.push({
      setting: 'secureAggregation',
      text:
        `Secure aggregation: ${recipients} only ${federated ? 'sees' : 'see'} your model change masked (hidden under random masks that can only be removed from the sum), ` +
        `so ${federated ? 'it learns' : 'they learn'} the sum of the participants' changes, never yours alone. A round needs at least ${task.minParticipants} participants, ` +
        `and its sum is unmasked only if more than half of those who started it (at least ${majority} when ${task.minParticipants} started) are still there; ` +
        'otherwise the round is abandoned and nothing of it is unmasked.',
    });
  }
  if (clip !== undefined && (secure || federated)) {
    enforced.push({
      setting: 'clippingNorm',
      text: secure
        ? `Your change is clipped to size (L2 norm) ${clip} on your device before it is masked, so no participant can move the sum by more than ${clip}.`
        : `The server clips every participant's change to size (L2 norm) ${clip} before adding it to the others, so no participant can move the model by more than that.`,
    });
  }
  if (noisy) {
    const std = `${z} × ${clip}`;
    enforced.push({
      setting: 'noiseMultiplier',
      text: secure
        ? `Differential privacy: each participant adds random (Gaussian) noise to its clipped change on its own device, before masking, so that every sum that is unmasked carries noise of standard deviation at least ${std}; every change counts the same, however many examples it holds. ` +
          `The privacy loss ε of everything you contribute (not just one example) is accounted after each round, at δ = ${delta}; smaller ε is more private.`
        : `Differential privacy: the server adds random (Gaussian) noise of standard deviation ${std} to the sum of the clipped changes before it updates the model, and every change counts the same, however many examples it holds. ` +
          `This protects you from anyone who gets the model, not from the server, which receives your change before the noise. ` +
          `The privacy loss ε of everything you contribute (not just one example) is accounted after each round, at δ = ${delta}; smaller ε is more private.`,
    });
  }
  if (samplingRate !== undefined && samplingRate < 1 && federated) {
    enforced.push({
      setting: 'samplingRate',
      text: `Each round, your device takes part with probability ${samplingRate} (${Math.round(samplingRate * 1000) / 10} %), drawn at random on your device; when it sits out, it only tells the server so${noisy ? '. This sampling lowers the ε each round costs' : ''}.`,
    });
  }
  if (budget && noisy) {
    enforced.push({
      setting: 'budget',
      text: `Privacy budget: training stops before ε would exceed ${budget.epsilon} (at δ = ${delta}); no round starts that would take it above.`,
    });
  }

  if (!secure) notProtected.push(`Secure aggregation is off: ${recipients} can see your model change on its own (but still not your data).`);
  else
    notProtected.push(
      federated
        ? 'Secure aggregation protects you from a server that follows the protocol: the server relays the participants’ public keys and nobody certifies them, so a server that swapped them could see your change.'
        : 'Secure aggregation protects you from participants and a server that follow the protocol: the server introduces the participants and relays their connections, and nobody certifies their keys, so a server that stood in the middle could see your change.',
    );
  if (!noisy) notProtected.push('Differential privacy is off: no noise is added, so the trained model, or the sum of a round, can still reveal something about your data.');
  else {
    if (secure)
      notProtected.push(
        'Participants who collude with the aggregator can remove the noise they added themselves, which weakens the protection of the others; and ε is computed for Gaussian noise, which the rounding secure aggregation needs makes approximate.',
      );
    if (!budget) notProtected.push('This task has no privacy budget: ε grows with every round, and nothing stops training at a given ε.');
  }
  notProtected.push(`The number of participants in each round is public${federated && !secure ? '' : ', and who took part is known to the aggregator'}.`);
  return { leavesDevice, enforced, notProtected };
}

/** What a task has spent, for people: `ε = 2.31 spent so far (at δ = 0.00001), of a budget of ε = 8.` */
export function describeSpent(spent: Pick<PrivacySpentState, 'epsilon' | 'delta'> & Partial<Pick<PrivacySpentState, 'budget' | 'exhausted'>>, rounds?: number): string {
  const after = rounds === undefined ? 'so far' : `after ${rounds} ${rounds === 1 ? 'round' : 'rounds'}`;
  const budget = spent.budget === undefined ? '' : `, of a budget of ε = ${spent.budget}`;
  const exhausted = spent.exhausted ? ': the budget is spent, no further round will start' : '';
  return `Privacy spent ${after}: ε = ${formatEpsilon(spent.epsilon)} (at δ = ${spent.delta})${budget}${exhausted}.`;
}

/** The sentence `<disco-train>` ends with when a task's budget stopped training. */
export function describeBudgetExhausted(budget: number | undefined, epsilon: number | undefined, rounds: number | undefined): string {
  const spent = epsilon === undefined ? '' : ` (ε = ${formatEpsilon(epsilon)}${rounds === undefined ? '' : ` after ${rounds} ${rounds === 1 ? 'round' : 'rounds'}`})`;
  return `Training stopped: this task's privacy budget${budget === undefined ? '' : ` ε = ${budget}`} is spent${spent}. One more round would exceed it, so no further round starts.`;
}
