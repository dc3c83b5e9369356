import { msg, str } from '@lit/localize';
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
 * aggregation) is not mentioned. In the elements' language (whole sentences per recipient, so that a translation
 * states the same conditions and numbers; the numbers are formatted here, not by the catalogue).
 */
export function describePrivacy(task: Task): PrivacyStatement {
  if (task.scheme === 'local')
    return {
      leavesDevice: msg('Nothing leaves your device: your files are read and the model is trained in this browser only.', { id: 'privacy.local' }),
      enforced: [],
      notProtected: [],
    };
  const federated = task.scheme === 'federated';
  const { secureAggregation: secure, clippingNorm: clip, samplingRate, delta, budget } = task.privacy;
  const z = task.privacy.noiseMultiplier ?? 0;
  const noisy = z > 0 && clip !== undefined;
  const max = task.aggregation.maxSamplesPerUpdate;
  const enforced: PrivacyStatement['enforced'] = [];
  const notProtected: string[] = [];
  // Whole sentences per recipient (the server, the other participants), so that a translation can agree with them.
  const sent = secure
    ? noisy
      ? federated
        ? msg('After each round, only the change your training made to the model (a list of numbers) is sent to the server, masked.', { id: 'privacy.sent-masked-server' })
        : msg('After each round, only the change your training made to the model (a list of numbers) is sent to the other participants, masked.', { id: 'privacy.sent-masked-peers' })
      : federated
        ? msg(str`After each round, only the change your training made to the model (a list of numbers) is sent to the server, masked, together with how many examples you trained on (counted up to ${max}), masked the same way.`, {
            id: 'privacy.sent-masked-count-server',
          })
        : msg(str`After each round, only the change your training made to the model (a list of numbers) is sent to the other participants, masked, together with how many examples you trained on (counted up to ${max}), masked the same way.`, {
            id: 'privacy.sent-masked-count-peers',
          })
    : federated
      ? msg('After each round, only the change your training made to the model (a list of numbers) is sent to the server, together with how many examples you trained on and your training scores.', { id: 'privacy.sent-server' })
      : msg('After each round, only the change your training made to the model (a list of numbers) is sent to the other participants, together with how many examples you trained on and your training scores.', {
          id: 'privacy.sent-peers',
        });
  const leavesDevice = [
    msg('Your files never leave your device.', { id: 'privacy.files-stay' }),
    sent,
    ...(secure && federated ? [msg('Your training scores stay on your device.', { id: 'privacy.scores-stay' })] : []),
  ].join(' ');

  if (secure) {
    const min = task.minParticipants;
    const majority = Math.floor(min / 2) + 1;
    enforced.push({
      setting: 'secureAggregation',
      text: federated
        ? msg(
            str`Secure aggregation: the server only sees your model change masked (hidden under random masks that can only be removed from the sum), so it learns the sum of the participants' changes, never yours alone. A round needs at least ${min} participants, and its sum is unmasked only if more than half of those who started it (at least ${majority} when ${min} started) are still there; otherwise the round is abandoned and nothing of it is unmasked.`,
            { id: 'privacy.secure-server' },
          )
        : msg(
            str`Secure aggregation: the other participants only see your model change masked (hidden under random masks that can only be removed from the sum), so they learn the sum of the participants' changes, never yours alone. A round needs at least ${min} participants, and its sum is unmasked only if more than half of those who started it (at least ${majority} when ${min} started) are still there; otherwise the round is abandoned and nothing of it is unmasked.`,
            { id: 'privacy.secure-peers' },
          ),
    });
  }
  if (clip !== undefined && (secure || federated)) {
    enforced.push({
      setting: 'clippingNorm',
      text: secure
        ? msg(str`Your change is clipped to size (L2 norm) ${clip} on your device before it is masked, so no participant can move the sum by more than ${clip}.`, { id: 'privacy.clip-device' })
        : msg(str`The server clips every participant's change to size (L2 norm) ${clip} before adding it to the others, so no participant can move the model by more than that.`, { id: 'privacy.clip-server' }),
    });
  }
  if (noisy) {
    const std = `${z} × ${clip}`;
    const accounted = msg(str`The privacy loss ε of everything you contribute (not just one example) is accounted after each round, at δ = ${delta}; smaller ε is more private.`, { id: 'privacy.accounted' });
    enforced.push({
      setting: 'noiseMultiplier',
      text: (secure
        ? [
            msg(
              str`Differential privacy: each participant adds random (Gaussian) noise to its clipped change on its own device, before masking, so that every sum that is unmasked carries noise of standard deviation at least ${std}; every change counts the same, however many examples it holds.`,
              { id: 'privacy.noise-device' },
            ),
            accounted,
          ]
        : [
            msg(
              str`Differential privacy: the server adds random (Gaussian) noise of standard deviation ${std} to the sum of the clipped changes before it updates the model, and every change counts the same, however many examples it holds.`,
              { id: 'privacy.noise-server' },
            ),
            msg('This protects you from anyone who gets the model, not from the server, which receives your change before the noise.', { id: 'privacy.noise-server-scope' }),
            accounted,
          ]
      ).join(' '),
    });
  }
  if (samplingRate !== undefined && samplingRate < 1 && federated) {
    const percent = Math.round(samplingRate * 1000) / 10;
    enforced.push({
      setting: 'samplingRate',
      text: noisy
        ? msg(
            str`Each round, your device takes part with probability ${samplingRate} (${percent} %), drawn at random on your device; when it sits out, it only tells the server so. This sampling lowers the ε each round costs.`,
            { id: 'privacy.sampling-noisy' },
          )
        : msg(str`Each round, your device takes part with probability ${samplingRate} (${percent} %), drawn at random on your device; when it sits out, it only tells the server so.`, { id: 'privacy.sampling' }),
    });
  }
  if (budget && noisy) {
    enforced.push({
      setting: 'budget',
      text: msg(str`Privacy budget: training stops before ε would exceed ${budget.epsilon} (at δ = ${delta}); no round starts that would take it above.`, { id: 'privacy.budget' }),
    });
  }

  if (!secure)
    notProtected.push(
      federated
        ? msg('Secure aggregation is off: the server can see your model change on its own (but still not your data).', { id: 'privacy.no-secure-server' })
        : msg('Secure aggregation is off: the other participants can see your model change on its own (but still not your data).', { id: 'privacy.no-secure-peers' }),
    );
  else
    notProtected.push(
      federated
        ? msg(
            'Secure aggregation protects you from a server that follows the protocol: the server relays the participants’ public keys and nobody certifies them, so a server that swapped them could see your change.',
            { id: 'privacy.secure-limit-server' },
          )
        : msg(
            'Secure aggregation protects you from participants and a server that follow the protocol: the server introduces the participants and relays their connections, and nobody certifies their keys, so a server that stood in the middle could see your change.',
            { id: 'privacy.secure-limit-peers' },
          ),
    );
  if (!noisy)
    notProtected.push(
      msg('Differential privacy is off: no noise is added, so the trained model, or the sum of a round, can still reveal something about your data.', { id: 'privacy.no-noise' }),
    );
  else {
    if (secure)
      notProtected.push(
        msg(
          'Participants who collude with the aggregator can remove the noise they added themselves, which weakens the protection of the others; and ε is computed for Gaussian noise, which the rounding secure aggregation needs makes approximate.',
          { id: 'privacy.collusion' },
        ),
      );
    if (!budget) notProtected.push(msg('This task has no privacy budget: ε grows with every round, and nothing stops training at a given ε.', { id: 'privacy.no-budget' }));
  }
  notProtected.push(
    federated && !secure
      ? msg('The number of participants in each round is public.', { id: 'privacy.count-public' })
      : msg('The number of participants in each round is public, and who took part is known to the aggregator.', { id: 'privacy.count-public-known' }),
  );
  return { leavesDevice, enforced, notProtected };
}

/** What a task has spent, for people: `ε = 2.31 spent so far (at δ = 0.00001), of a budget of ε = 8.` */
export function describeSpent(spent: Pick<PrivacySpentState, 'epsilon' | 'delta'> & Partial<Pick<PrivacySpentState, 'budget' | 'exhausted'>>, rounds?: number): string {
  const after =
    rounds === undefined
      ? msg('so far', { id: 'privacy.so-far' })
      : rounds === 1
        ? msg('after 1 round', { id: 'privacy.after-round' })
        : msg(str`after ${rounds} rounds`, { id: 'privacy.after-rounds' });
  const budget = spent.budget === undefined ? '' : msg(str`, of a budget of ε = ${spent.budget}`, { id: 'privacy.of-budget' });
  const exhausted = spent.exhausted ? msg(': the budget is spent, no further round will start', { id: 'privacy.budget-spent' }) : '';
  return msg(str`Privacy spent ${after}: ε = ${formatEpsilon(spent.epsilon)} (at δ = ${spent.delta})${budget}${exhausted}.`, { id: 'privacy.spent' });
}

/** The sentence `<disco-train>` ends with when a task's budget stopped training. */
export function describeBudgetExhausted(budget: number | undefined, epsilon: number | undefined, rounds: number | undefined): string {
  const e = epsilon === undefined ? '' : formatEpsilon(epsilon);
  const spent =
    epsilon === undefined
      ? ''
      : rounds === undefined
        ? ` (ε = ${e})`
        : rounds === 1
          ? msg(str` (ε = ${e} after 1 round)`, { id: 'privacy.stopped-after-round' })
          : msg(str` (ε = ${e} after ${rounds} rounds)`, { id: 'privacy.stopped-after-rounds' });
  return msg(str`Training stopped: this task's privacy budget${budget === undefined ? '' : ` ε = ${budget}`} is spent${spent}. One more round would exceed it, so no further round starts.`, {
    id: 'privacy.stopped',
  });
}
