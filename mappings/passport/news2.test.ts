import { news2, News2Risk, type VitalSigns } from './news2';

const normal: VitalSigns = { respiratoryRate: 16, oxygenSaturation: 97, spo2Scale: 1, onOxygen: false, systolicBloodPressure: 128, pulse: 72, consciousness: 'A', temperature: 36.8 };

describe('NEWS2', () => {
  it('scores a normal set of observations 0, low risk', () => {
    expect(news2(normal)).toEqual({ complete: true, total: 0, risk: News2Risk.LOW, parts: { respiratoryRate: 0, oxygenSaturation: 0, onOxygen: 0, systolicBloodPressure: 0, pulse: 0, consciousness: 0, temperature: 0 } });
  });

  it.each([
    ['respiratoryRate', 8, 3], ['respiratoryRate', 9, 1], ['respiratoryRate', 11, 1], ['respiratoryRate', 12, 0], ['respiratoryRate', 20, 0], ['respiratoryRate', 21, 2], ['respiratoryRate', 24, 2], ['respiratoryRate', 25, 3],
    ['oxygenSaturation', 91, 3], ['oxygenSaturation', 92, 2], ['oxygenSaturation', 93, 2], ['oxygenSaturation', 94, 1], ['oxygenSaturation', 95, 1], ['oxygenSaturation', 96, 0],
    ['systolicBloodPressure', 90, 3], ['systolicBloodPressure', 91, 2], ['systolicBloodPressure', 100, 2], ['systolicBloodPressure', 101, 1], ['systolicBloodPressure', 110, 1], ['systolicBloodPressure', 111, 0], ['systolicBloodPressure', 219, 0], ['systolicBloodPressure', 220, 3],
    ['pulse', 40, 3], ['pulse', 41, 1], ['pulse', 50, 1], ['pulse', 51, 0], ['pulse', 90, 0], ['pulse', 91, 1], ['pulse', 110, 1], ['pulse', 111, 2], ['pulse', 130, 2], ['pulse', 131, 3],
    ['temperature', 35.0, 3], ['temperature', 35.1, 1], ['temperature', 36.0, 1], ['temperature', 36.1, 0], ['temperature', 38.0, 0], ['temperature', 38.1, 1], ['temperature', 39.0, 1], ['temperature', 39.1, 2],
  ] as const)('chart 1 band edge: %s %d scores %d', (parameter, value, score) => {
    const result = news2({ ...normal, [parameter]: value });
    if (!result.complete) throw new Error('incomplete');
    expect(result.parts[parameter]).toBe(score);
  });

  it.each([
    [83, false, 3], [84, false, 2], [85, false, 2], [86, false, 1], [87, false, 1], [88, false, 0], [92, false, 0], [97, false, 0],
    [92, true, 0], [93, true, 1], [94, true, 1], [95, true, 2], [96, true, 2], [97, true, 3],
  ] as const)('SpO2 scale 2: %d%% on oxygen %s scores %d', (spo2, onOxygen, score) => {
    const result = news2({ ...normal, spo2Scale: 2, oxygenSaturation: spo2, onOxygen });
    if (!result.complete) throw new Error('incomplete');
    expect(result.parts.oxygenSaturation).toBe(score);
  });

  it('supplemental oxygen scores 2 and new confusion 3', () => {
    const result = news2({ ...normal, onOxygen: true, consciousness: 'C' });
    expect(result).toMatchObject({ complete: true, total: 5, risk: News2Risk.MEDIUM });
  });

  it('a single parameter scoring 3 is low-medium risk even when the total is low', () => {
    expect(news2({ ...normal, pulse: 135 })).toMatchObject({ complete: true, total: 3, risk: News2Risk.LOW_MEDIUM });
  });

  it('7 or more is high risk', () => {
    expect(news2({ ...normal, respiratoryRate: 26, oxygenSaturation: 92, temperature: 38.6, pulse: 115 })).toMatchObject({ complete: true, total: 8, risk: News2Risk.HIGH });
  });

  it('an incomplete set gives no total and names what is missing', () => {
    expect(news2({ respiratoryRate: 22, pulse: 100 })).toEqual({ complete: false, missing: ['oxygenSaturation', 'onOxygen', 'systolicBloodPressure', 'consciousness', 'temperature'] });
  });
});
