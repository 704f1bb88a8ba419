import { CONFIDENTIALITY_SYSTEM, labelKey, readLabels, securityLabels, Sensitivity, NOPAT_CODING } from './labels';

describe('security labels', () => {
  it('raises confidentiality to what a key-safe code implies, whatever the source said', () => {
    const labels = securityLabels([Sensitivity.KEY_SAFE], 'N');
    expect(labels[0]).toEqual({ system: CONFIDENTIALITY_SYSTEM, code: 'V', display: 'very restricted' });
    expect(labels.map(labelKey)).toEqual([`${CONFIDENTIALITY_SYSTEM}|V`, 'https://carebridge.nhs.uk/fhir/CodeSystem/sensitivity|key-safe']);
  });

  it('keeps a source label that is not ours, such as NOPAT, and round-trips what it wrote', () => {
    const labels = securityLabels([Sensitivity.MENTAL_HEALTH, Sensitivity.MENTAL_HEALTH], 'N', [NOPAT_CODING]);
    expect(labels.map((c) => c.code)).toEqual(['R', 'PSY', 'NOPAT']);
    expect(readLabels({ security: labels })).toEqual({ confidentiality: 'R', sensitivities: ['mental-health'] });
  });

  it('reads no labels as normal with no sensitivity', () => {
    expect(readLabels(undefined)).toEqual({ confidentiality: 'N', sensitivities: [] });
  });
});
