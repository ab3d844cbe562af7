// The anchor's browser page: automerge-repo 2.x + IndexedDB storage, bundled by esbuild (see
// browser.mjs). Automerge's wasm is a separate file, streamed and compiled with
// initializeWasm(fetch(...)) from the "slim" entry points (no base64 copy inside the JS).
//
// On load it opens the index document named in localStorage and renders the whole incident list
// (title, state, priority for every entry; no pagination, as Outpost renders every summary), sorted
// by priority then most recently updated. window.app exposes seeding for the benchmark; the
// "Create incident" button creates an incident, adds it to the index, awaits repo.flush() and then
// shows the new row.
import { Automerge as A, Repo, generateAutomergeUrl, initializeWasm, parseAutomergeUrl } from '@automerge/automerge-repo/slim';
import { IndexedDBStorageAdapter } from '@automerge/automerge-repo-storage-indexeddb';
import { initialIncident, seedStorage, summary } from '../model.mjs';

const INDEX_KEY = 'anchor-index';
const STATES = { new: 'New', in_progress: 'In Progress', on_hold: 'On Hold', resolved: 'Resolved', closed: 'Closed' };

await initializeWasm(fetch(new URL('automerge.wasm', location.href)));
const repo = new Repo({ storage: new IndexedDBStorageAdapter('outpost-anchor'), network: [] });
const main = document.querySelector('main');
const count = document.createElement('p');
count.className = 'result-count';
const list = document.createElement('ul');
list.className = 'incident-list';

function row(id, s) {
  const li = document.createElement('li');
  li.dataset.id = id;
  const title = document.createElement('span');
  title.className = 'title';
  title.textContent = s.title;
  const state = document.createElement('span');
  state.className = 'state';
  state.textContent = STATES[s.state] ?? s.state;
  const prio = document.createElement('span');
  prio.className = 'priority';
  prio.textContent = `P${s.priority}`;
  li.append(title, state, prio);
  return li;
}

const label = (n) => `${n} incident${n === 1 ? '' : 's'}`;

function render(incidents) {
  const entries = Object.entries(incidents).sort(([, a], [, b]) => a.priority - b.priority || b.updatedAt - a.updatedAt);
  const rows = document.createDocumentFragment();
  for (const [id, s] of entries) rows.append(row(id, s));
  list.replaceChildren(rows);
  count.textContent = label(entries.length);
  main.replaceChildren(count, list);
}

let index = null;
const indexUrl = localStorage.getItem(INDEX_KEY);
if (indexUrl) {
  index = await repo.find(indexUrl);
  render(index.doc().incidents);
} else {
  index = repo.create({ incidents: {} });
  localStorage.setItem(INDEX_KEY, index.url);
  render({});
}

let created = 0;
document.querySelector('#create').addEventListener('click', async () => {
  const n = ++created;
  const handle = repo.create(initialIncident({
    title: `Badge reader offline at gate ${n % 7}`, description: 'Staff cannot get through the gate.', caller: 'Dana Reyes',
    category: 'facilities', subcategory: 'power', service: 'Building services', detection: 'user_report', impact: 2, urgency: 2,
    group: 'Service Desk', assignee: 'Lee Chen', author: 'Bench Tech', at: Date.now(),
  }));
  index.change((d) => {
    d.incidents[handle.documentId] = summary(handle.doc());
  });
  await repo.flush();
  list.prepend(row(handle.documentId, summary(handle.doc())));
  count.textContent = label(Object.keys(index.doc().incidents).length);
});

window.app = {
  repo,
  /** Writes the generated incidents (fetched from the bench server) into IndexedDB with an index. */
  async seed() {
    const { incidents } = await (await fetch('bench-data.json')).json();
    const newId = () => parseAutomergeUrl(generateAutomergeUrl()).documentId;
    const { index: url, ids } = await seedStorage(A, repo, incidents, newId, (n) => console.log(`seeded ${n}`));
    localStorage.setItem(INDEX_KEY, url);
    return ids.length;
  },
};
document.body.dataset.ready = 'true';
