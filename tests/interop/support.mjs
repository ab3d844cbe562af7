// What the interoperability files share: cleanups that all run at the end of the file, waiting
// for a condition (polling, never a fixed sleep), automerge-repo peers, and valid incidents.
import { after } from 'node:test';
import { Repo, ImmutableString } from '@automerge/automerge-repo';
import { WebSocketClientAdapter } from '@automerge/automerge-repo-network-websocket';

/** Functions to run, last first, when the file's tests are done. */
export const cleanups = [];
after(async () => {
  // Every cleanup runs even if one fails, or a relay left running keeps the test process alive.
  const failed = [];
  for (const c of cleanups.reverse()) await Promise.resolve().then(c).catch((e) => failed.push(e));
  if (failed.length) throw failed[0];
});

/** Waits until `fn` returns something truthy. */
export async function until(fn, message, timeout = 20_000) {
  const end = Date.now() + timeout;
  while (Date.now() < end) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${message}`);
}

/**
 * automerge-repo peers of one relay: `ws()` is its sync address, `tokens` each user's token.
 * `client(user)` is a new peer with nothing stored; `open(user, url)` a peer that has synced the
 * document, with the refusals it is told about.
 */
export function peers(ws, tokens) {
  function client(user) {
    const repo = new Repo({ network: [new WebSocketClientAdapter(`${ws()}?token=${tokens[user]}`)], peerId: `${user}-${Math.random()}` });
    cleanups.push(() => repo.shutdown());
    return repo;
  }
  async function open(user, url) {
    // automerge-repo gives up on a document the relay does not have yet (its creator may still
    // be sending it): ask again, from a fresh peer, until the relay has it.
    let repo, handle;
    await until(async () => {
      repo = client(user);
      try {
        handle = await repo.find(url);
        return true;
      } catch (e) {
        if (!/unavailable/.test(String(e))) throw e;
        return false; // that peer is shut down with the others at the end
      }
    }, `the relay to have ${url} for ${user}`);
    const refusals = [];
    handle.on('ephemeral-message', ({ message }) => {
      if (message?.type === 'outpost/refused') refusals.push(message);
    });
    return { repo, handle, refusals };
  }
  return { client, open };
}

/** One attributed change, as docs/incident-schema.md describes. */
export function change(handle, by, edit) {
  const at = new Date();
  const options = { time: Math.floor(at.getTime() / 1000) };
  handle.change((d) => {
    const events = edit(d, at) ?? [];
    options.message = JSON.stringify({ outpost: 1, by, at: at.getTime(), events });
  }, options);
}

/** A valid new incident, as docs/incident-schema.md describes, with `fields` overriding. */
export function incident(now, fields = {}) {
  return {
    type: new ImmutableString('outpost/incident'),
    schema: 1,
    reference: new ImmutableString('INC-JS01-0001'),
    reported_at: now, reported_by: 'ana',
    title: 'Badge readers offline in building B', description: 'Since 07:50', caller: 'Front desk',
    category: 'Hardware', subcategory: '', affected_service: 'Physical access',
    detection_source: 'user_report', detected_at: now,
    impact: 2, urgency: 1,
    assignment_group: 'Facilities IT', assignee: '', escalation: 'level_1',
    major_incident: false, state: 'new', resolution_code: '', resolution_notes: '',
    parent: '', duplicate_of: '', restricted_to: '',
    affected_users: {}, references: {},
    work_notes: [], comments: [], status_updates: [],
    review: { overview: '', impact_analysis: '', root_cause: '', corrective_actions: '', lessons_learned: '', appendices: '' },
    ...fields,
  };
}
