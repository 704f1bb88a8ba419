import { isValidNhsNumber, nhsCheckDigit, normaliseNhsNumber } from './nhs-number';

describe('NHS numbers', () => {
  test.each([
    ['943 476 5919', '9434765919'],
    ['943-476-5919', '9434765919'],
    ['9434765919', '9434765919'],
    [' 999 000 0018 ', '9990000018'],
  ])('%s is normalised to %s', (input, expected) => {
    expect(normaliseNhsNumber(input)).toBe(expected);
  });

  test.each(['94347659', '94347659190', '943476591X', ''])('%s is not ten digits', (input) => {
    expect(normaliseNhsNumber(input)).toBeUndefined();
  });

  test('the modulus-11 check digit of the NHS Data Dictionary example 943476591 is 9', () => {
    expect(nhsCheckDigit('943476591')).toBe(9);
  });

  test('a remainder giving 11 means check digit 0, and 10 means no valid number', () => {
    // 999000001: 9*10+9*9+9*8+0+0+0+0+0+1*2 = 245; 245 % 11 = 3; 11 - 3 = 8
    expect(nhsCheckDigit('999000001')).toBe(8);
    // Weighted sum ≡ 0 (mod 11) → 11 → 0: 000000000
    expect(nhsCheckDigit('000000000')).toBe(0);
    // 000000010: 1*2 = 2 → 11 - 2 = 9; 000000100: 1*3 = 3 → 8; 100000001: 10 + 2 = 12 ≡ 1 → 10 → none
    expect(nhsCheckDigit('100000001')).toBeUndefined();
  });

  test.each([
    ['9434765919', true],
    ['943 476 5919', true],
    ['9434765918', false],
    ['9990000018', true],
    ['9990000017', false],
    ['1000000010', false],
  ])('%s valid: %s', (input, expected) => {
    expect(isValidNhsNumber(input)).toBe(expected);
  });
});
