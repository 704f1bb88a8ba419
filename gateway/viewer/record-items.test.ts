import { escapeHtml, recordItemsHtml } from './record-items';
import { formatDate } from './render';

describe("a record section's items as HTML", () => {
  test('each item: title, status, detail, date, source and update time, every value escaped', () => {
    const html = recordItemsHtml(
      [
        { title: 'Fall <with> "injury" & pain', status: 'active', detail: "O'Brien \\ ward", date: '2026-03-29T01:30:00Z', source: 'St Mary & St John', updated: '2026-11-20T02:40:00Z' },
        { title: 'Penicillin', source: 'Demo Lane Surgery (fictional)' },
      ],
      formatDate,
    );
    expect(html).toBe(
      `
    <li class="cb-item">
      <p class="cb-item__title"><strong>Fall &lt;with&gt; &quot;injury&quot; &amp; pain</strong> <span class="nhsuk-tag nhsuk-tag--grey">active</span></p>
      <p class="cb-item__detail">O&#39;Brien &#92; ward</p>
      <p class="cb-item__meta nhsuk-body-s">29 March 2026 · From St Mary &amp; St John, updated 20 November 2026, 02:40</p>
    </li>
    
    <li class="cb-item">
      <p class="cb-item__title"><strong>Penicillin</strong></p>
      
      <p class="cb-item__meta nhsuk-body-s">From Demo Lane Surgery (fictional)</p>
    </li>
    `,
    );
  });

  test('escapes as Nunjucks autoescape does, and nothing for no value', () => {
    expect(escapeHtml(`<a href="x">'&'\\</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&#92;&lt;/a&gt;');
    expect(escapeHtml(undefined)).toBe('');
    expect(recordItemsHtml([], formatDate)).toBe('');
  });
});
