import { resolve } from 'node:path';

/** The UK Core package as published (XML), beside the repository as CI and developers have it. */
export const UK_CORE_DIR = process.env['UK_CORE_DIR'] ?? resolve(__dirname, '../../../shared/reference/uk-core-r4-2.0.0');
