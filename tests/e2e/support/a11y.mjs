// The checks axe-core does not make (tests/e2e/accessibility.test.mjs runs axe beside them).

/** Problems axe does not look for: a page wider than a small screen, and duplicate ids. */
export async function audit(page) {
  return page.evaluate(() => {
    const problems = [];
    // clientWidth, not innerWidth: mobile Chromium widens the layout viewport to fit overflow.
    const screenWidth = document.documentElement.clientWidth;
    if (document.documentElement.scrollWidth > screenWidth + 1) {
      problems.push(`page is ${document.documentElement.scrollWidth}px wide on a ${screenWidth}px screen`);
    }
    const ids = [...document.querySelectorAll('[id]')].map((e) => e.id);
    const dupes = ids.filter((id, i) => ids.indexOf(id) !== i);
    if (dupes.length) problems.push(`duplicate ids: ${[...new Set(dupes)].join(', ')}`);
    return problems;
  });
}
