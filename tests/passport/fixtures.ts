/** The synthetic passport views in tests/fixtures/passport/ (Margaret ELLIS, a care home resident). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PassportView } from '../../mappings/passport/view';

export type PassportFixture = 'transfer' | 'discharge';

export function loadPassportView(name: PassportFixture): PassportView {
  const file = join(__dirname, '..', 'fixtures', 'passport', `view-${name}.json`);
  return JSON.parse(readFileSync(file, 'utf8')) as PassportView;
}
