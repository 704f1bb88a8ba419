import { reportUnmappedElements } from './elements';
import { GpIssueList } from './issues';

test('elements a mapper does not take are reported, not dropped silently', () => {
  const issues = new GpIssueList();
  reportUnmappedElements(issues, { resourceType: 'Observation', id: 'o', status: 'final', valueAttachment: { url: 'x' }, text: { status: 'generated' } } as never, 'Bundle.entry[3].resource');
  expect(issues.items).toEqual([
    { severity: 'information', code: 'informational', expression: 'Bundle.entry[3].resource.valueAttachment', text: 'Observation.valueAttachment is not mapped' },
    { severity: 'information', code: 'informational', expression: 'Bundle.entry[3].resource.text', text: 'Observation.text is not mapped' },
  ]);
});
