// The anchor's document model, as a JavaScript developer would write it with automerge-repo: one
// document per incident, changed once per generated event, plus one index document that the list
// reads ({ incidents: { [docId]: { title, state, priority, updatedAt } } }). Shared by the Node
// benchmarks and the browser page (no Node-only imports here).

/** ITIL priority from impact and urgency (1 = high): 1 (critical) .. 5 (planning). */
export const priority = (impact, urgency) => impact + urgency - 1;

/** The new incident document's initial value. */
export function initialIncident(spec) {
  return {
    title: spec.title, description: spec.description, caller: spec.caller, category: spec.category,
    subcategory: spec.subcategory, service: spec.service, detection: spec.detection, impact: spec.impact,
    urgency: spec.urgency, group: spec.group, assignee: spec.assignee, state: 'new',
    createdBy: spec.author, createdAt: spec.at, updatedAt: spec.at, notes: [], history: [],
  };
}

/** Applies one generated event inside a change callback. */
export function applyEvent(d, e) {
  const { type, author, at } = e;
  d.updatedAt = at;
  switch (type) {
    case 'note':
      d.notes.push({ kind: e.kind, author, at, text: e.text });
      return;
    case 'assign':
      d.group = e.group;
      d.assignee = e.assignee;
      d.history.push({ type, author, at, group: e.group, assignee: e.assignee });
      return;
    case 'start_work':
      d.state = 'in_progress';
      d.history.push({ type, author, at });
      return;
    case 'put_on_hold':
      d.state = 'on_hold';
      d.holdReason = e.reason;
      d.history.push({ type, author, at, reason: e.reason, note: e.note });
      return;
    case 'resolve':
      d.state = 'resolved';
      d.resolution = { code: e.code, notes: e.notes, author, at };
      d.history.push({ type, author, at, code: e.code });
      return;
    case 'close':
      d.state = 'closed';
      d.history.push({ type, author, at });
      return;
    default:
      throw new Error(`unknown event ${type}`);
  }
}

/** The index entry for an incident document. */
export const summary = (d) => ({ title: d.title, state: d.state, priority: priority(d.impact, d.urgency), updatedAt: d.updatedAt });

/** Creates one incident through a repo, one handle.change per event (the index is the caller's). */
export function createIncident(repo, spec) {
  const handle = repo.create(initialIncident(spec));
  for (const e of spec.events) handle.change((d) => applyEvent(d, e));
  return handle;
}

/**
 * Seeds a repo's storage with `incidents` (generated specs) and an index document, without going
 * through handles: each incident is built with Automerge directly, one change per event (what
 * handle.change records), and written with the repo's own StorageSubsystem (a snapshot, as a flush
 * writes). `A` is the Automerge module the repo uses. Returns { index, ids } (document ids).
 * Index entries are added INDEX_BATCH per change. Why not repo.create + handle.change: with
 * thousands of live handles, automerge-repo slows down more than linearly (10000 took minutes).
 */
export async function seedStorage(A, repo, incidents, newId, progress = () => {}) {
  const ids = [];
  let index = A.from({ incidents: {} });
  let batch = {};
  for (let i = 0; i < incidents.length; i++) {
    let doc = A.from(initialIncident(incidents[i]));
    for (const e of incidents[i].events) doc = A.change(doc, (d) => applyEvent(d, e));
    const id = newId();
    await repo.storageSubsystem.saveDoc(id, doc);
    ids.push(id);
    batch[id] = summary(doc);
    A.free(doc);
    if (Object.keys(batch).length === INDEX_BATCH || i === incidents.length - 1) {
      const entries = batch;
      index = A.change(index, (d) => Object.assign(d.incidents, entries));
      batch = {};
    }
    if ((i + 1) % 1000 === 0) progress(i + 1);
  }
  const indexId = newId();
  await repo.storageSubsystem.saveDoc(indexId, index);
  A.free(index);
  return { index: `automerge:${indexId}`, ids };
}

export const INDEX_BATCH = 500;

/** An offline edit for the converge benchmark (as crates/bench: every third a description, else a note). */
export function edit(handle, who, k) {
  handle.change((d) => {
    if (k % 3 === 0) d.description = `${who}: revised after check ${k}`;
    else d.notes.push({ kind: 'work_note', author: who, at: 1_764_000_000_000 + k, text: `${who}: finding ${k} from the plant room` });
    d.updatedAt = 1_764_000_000_000 + k;
  });
}
