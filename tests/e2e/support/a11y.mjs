// Checks a page the way a phone user and a screen-reader user would meet it.

/** Problems a person with a screen reader or a small screen would hit on the current page. */
export async function audit(page) {
  return page.evaluate(() => {
    const problems = [];
    // clientWidth, not innerWidth: mobile Chromium widens the layout viewport to fit overflow.
    const screenWidth = document.documentElement.clientWidth;
    if (document.documentElement.scrollWidth > screenWidth + 1) {
      problems.push(`page is ${document.documentElement.scrollWidth}px wide on a ${screenWidth}px screen`);
    }
    const visible = (el) => el.getClientRects().length > 0;
    for (const el of document.querySelectorAll('input, select, textarea')) {
      if (!visible(el) || el.type === 'hidden') continue;
      const named = (el.labels && el.labels.length > 0) || el.getAttribute('aria-label') || el.getAttribute('aria-labelledby');
      if (!named) problems.push(`${el.tagName.toLowerCase()}#${el.id} has no label`);
    }
    for (const el of document.querySelectorAll('button, a[href]')) {
      if (!visible(el)) continue;
      const name = (el.getAttribute('aria-label') || el.textContent || '').trim();
      if (!name) problems.push(`${el.tagName.toLowerCase()} without a name: ${el.outerHTML.slice(0, 80)}`);
    }
    const ids = [...document.querySelectorAll('[id]')].map((e) => e.id);
    const dupes = ids.filter((id, i) => ids.indexOf(id) !== i);
    if (dupes.length) problems.push(`duplicate ids: ${[...new Set(dupes)].join(', ')}`);
    return problems;
  });
}
