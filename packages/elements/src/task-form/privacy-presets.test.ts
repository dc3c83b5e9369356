import { expect } from '@open-wc/testing';
import { parseTask, titanic, validateTask, type TaskInput } from '@disco/core';
import { describePrivacy } from '../task/privacy-statement.js';
import { applyPreset, presetIssues, presetOf, privacyPresets, roundsWithinBudget } from './privacy-presets.js';
import { defaultDelta } from './task-draft.js';

/** Titanic as a form would start it: the schema's default minimum (2), no bound on the examples an update claims. */
const draft: TaskInput = { ...titanic, minParticipants: 2, aggregation: { strategy: 'fedavg' }, privacy: {} };

/** The preset applied and parsed, as the server would store it. */
const withPreset = (preset: keyof typeof privacyPresets, task: TaskInput = draft) => parseTask(applyPreset(task, preset));
const settingsOf = (task: TaskInput) => describePrivacy(parseTask(task)).enforced.map((s) => s.setting);

describe('privacy presets', () => {
  it('"None" sets no privacy setting; the statement names none and says what is not protected', () => {
    const applied = applyPreset(draft, 'none');
    expect(validateTask(applied).ok).to.equal(true);
    expect(applied.privacy).to.deep.equal({ secureAggregation: false });
    const statement = describePrivacy(withPreset('none'));
    expect(statement.enforced).to.deep.equal([]);
    expect(statement.notProtected.join(' ')).to.contain('Secure aggregation is off: the server can see your model change').and.contain('Differential privacy is off');
    expect(statement.leavesDevice + statement.enforced.map((s) => s.text).join(' ')).not.to.match(/masked|clipped|noise|ε/);
  });

  it('"Secure aggregation" sets secure aggregation and its clipping norm, at least 3 participants and a bound on the examples; the statement names exactly those', () => {
    const applied = applyPreset(draft, 'secure');
    expect(validateTask(applied).ok).to.equal(true);
    expect(applied.privacy).to.deep.equal({ secureAggregation: true, clippingNorm: 1 });
    expect(applied.minParticipants).to.equal(3);
    expect(applied.aggregation).to.deep.equal({ strategy: 'fedavg', maxSamplesPerUpdate: 1000 });
    // A bound already set is kept, and so is a larger minimum.
    const kept = applyPreset({ ...draft, minParticipants: 5, aggregation: { strategy: 'fedavg', maxSamplesPerUpdate: 1309 } }, 'secure');
    expect([kept.minParticipants, kept.aggregation?.maxSamplesPerUpdate]).to.deep.equal([5, 1309]);

    const statement = describePrivacy(withPreset('secure'));
    expect(statement.enforced.map((s) => s.setting)).to.deep.equal(['secureAggregation', 'clippingNorm']);
    const [secure, clip] = statement.enforced.map((s) => s.text);
    expect(secure).to.contain('the server only sees your model change masked').and.contain('never yours alone').and.contain('at least 3 participants');
    expect(secure).to.contain('more than half of those who started it (at least 2 when 3 started)').and.contain('nothing of it is unmasked');
    expect(clip).to.equal('Your change is clipped to size (L2 norm) 1 on your device before it is masked, so no participant can move the sum by more than 1.');
    expect(statement.leavesDevice).to.contain('counted up to 1000').and.contain('Your training scores stay on your device');
    expect(statement.notProtected.join(' ')).to.contain('Differential privacy is off').and.contain('nobody certifies them');
    expect(statement.enforced.map((s) => s.text).join(' ')).not.to.match(/noise|ε|budget/);
  });

  it('"Secure aggregation + differential privacy (ε ≤ 8)" sets secure aggregation, clipping, noise, δ and the budget; the statement names exactly those', () => {
    const applied = applyPreset(draft, 'secure-dp');
    expect(validateTask(applied).ok).to.equal(true);
    expect(applied.privacy).to.deep.equal({ secureAggregation: true, clippingNorm: 1, noiseMultiplier: 2, delta: 1e-5, budget: { epsilon: 8 } });
    expect(applied.minParticipants).to.equal(3);
    // Under noise every update weighs 1: no bound on the examples is needed, none is added.
    expect(applied.aggregation).to.deep.equal({ strategy: 'fedavg' });

    const statement = describePrivacy(withPreset('secure-dp'));
    expect(statement.enforced.map((s) => s.setting)).to.deep.equal(['secureAggregation', 'clippingNorm', 'noiseMultiplier', 'budget']);
    const text = statement.enforced.map((s) => s.text).join(' ');
    expect(text).to.contain('each participant adds random (Gaussian) noise to its clipped change on its own device, before masking');
    expect(text).to.contain('standard deviation at least 2 × 1').and.contain('at δ = 0.00001');
    expect(text).to.contain('training stops before ε would exceed 8 (at δ = 0.00001)');
    expect(text).not.to.contain('sampling');
    expect(statement.leavesDevice).not.to.contain('examples you trained on');
    expect(statement.notProtected.join(' ')).to.contain('collude').and.contain('approximate');
    // 8 rounds fit in ε = 8 at z = 2 with every participant in every round (decision 0011's table: 10 rounds cost 8.84).
    expect(roundsWithinBudget(privacyPresets['secure-dp'].privacy, 20)).to.equal(8);
  });

  it('each preset is recognised from its settings, anything else is custom', () => {
    for (const preset of ['none', 'secure', 'secure-dp'] as const) expect(presetOf(withPreset(preset).privacy, defaultDelta)).to.equal(preset);
    expect(presetOf(parseTask({ ...draft, privacy: { clippingNorm: 1 } }).privacy, defaultDelta)).to.equal('custom');
  });

  it('a preset the task cannot take says why, in core’s words: a local task, a strategy other than FedAvg', () => {
    const local = presetIssues({ ...draft, scheme: 'local' }, 'secure');
    expect(local).to.include('privacy.secureAggregation: a local task has no aggregation to secure');
    expect(presetIssues({ ...draft, scheme: 'local' }, 'secure-dp')).to.include('privacy.noiseMultiplier: a local task shares nothing to add noise to');
    expect(presetIssues({ ...draft, aggregation: { strategy: 'median' } }, 'secure')).to.include(
      'aggregation.strategy: "median" needs each update on its own, which secure aggregation hides; use "fedavg"',
    );
    expect(presetIssues({ ...draft, scheme: 'local' }, 'none')).to.deep.equal([]);
    // Problems of the task that the preset does not cause (an empty title) do not hold it back.
    expect(presetIssues({ ...draft, title: '' }, 'secure-dp').filter((i) => !i.startsWith('privacy.secureAggregation: secure aggregation is not enforced'))).to.deep.equal([]);
  });

  it('central differential privacy, sampling and a decentralized task are stated as the code runs them', () => {
    const central: TaskInput = { ...draft, privacy: { clippingNorm: 2, noiseMultiplier: 1.1, samplingRate: 0.2, budget: { epsilon: 10 } } };
    expect(settingsOf(central)).to.deep.equal(['clippingNorm', 'noiseMultiplier', 'samplingRate', 'budget']);
    const text = describePrivacy(parseTask(central)).enforced.map((s) => s.text);
    expect(text[0]).to.contain("The server clips every participant's change to size (L2 norm) 2 before adding it to the others");
    expect(text[1]).to.contain('the server adds random (Gaussian) noise of standard deviation 1.1 × 2').and.contain('not from the server');
    expect(text[2]).to.contain('probability 0.2 (20 %)');
    expect(describePrivacy(parseTask(central)).notProtected[0]).to.contain('Secure aggregation is off');

    const peers = describePrivacy(withPreset('secure', { ...draft, scheme: 'decentralized' }));
    expect(peers.enforced[0].text).to.contain('the other participants only see your model change masked').and.contain('they learn the sum');
    // A decentralized task without secure aggregation has nobody to clip: its clipping norm is not claimed.
    expect(settingsOf({ ...draft, scheme: 'decentralized', privacy: { clippingNorm: 1 } })).to.deep.equal([]);
  });
});
