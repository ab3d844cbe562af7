// The shared benchmark dataset: realistic, seeded IT incidents that Outpost (crates/bench, through
// its domain commands) and the automerge-repo anchor (bench/anchor) both build, event by event.
//
//   node bench/data/generate.mjs --count N --seed S [--out file.json]     (stdout without --out)
//   import { generate } from './generate.mjs'; generate(count, seed)
//
// Deterministic for a seed (mulberry32; no Math.random), and prefix-stable: the first k incidents of
// generate(n, s) are generate(k, s) for any k <= n. Every event sequence obeys Outpost's state machine:
// New -start_work-> In Progress; put_on_hold from New or In Progress (awaiting_caller has a note);
// start_work resumes from On Hold; resolve from In Progress with a code and notes; close from
// Resolved, last. Notes come in any state before close; reassignments only before resolve.
// Categories and subcategories are those of Outpost's default workspace catalog (case-insensitive).
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';

/** mulberry32: a small, fast 32-bit seeded PRNG returning floats in [0, 1). */
export function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PEOPLE = [
  'Sam Okafor', 'Lee Chen', 'Priya Shah', 'Dana Reyes', 'Tom Baxter', 'Aisha Rahman', 'Marta Kowalski',
  'Jonas Berg', 'Chloe Martin', 'Ravi Menon', 'Grace Adeyemi', 'Oliver Hughes', 'Nina Petrova', 'Diego Alvarez', 'Hannah Wright',
];
const CALLERS = [
  'Priya Shah', 'Mark Davies', 'Fatima Noor', 'George Lewis', 'Emma Collins', 'Yusuf Demir', 'Laura Bianchi', 'Kevin O\'Brien',
  'Sofia Lindqvist', 'Ahmed Karim', 'Rachel Green', 'Ben Turner', 'Mei Tanaka', 'Paul Novak', 'Zara Ali', 'Ian Fraser',
];
// Group → its people (assignees come from the group they are assigned to).
const GROUPS = {
  'Service Desk': ['Lee Chen', 'Dana Reyes', 'Chloe Martin', 'Hannah Wright'],
  'Network Operations': ['Sam Okafor', 'Jonas Berg', 'Diego Alvarez'],
  'Desktop Support': ['Tom Baxter', 'Marta Kowalski', 'Oliver Hughes'],
  'Server & Storage': ['Ravi Menon', 'Nina Petrova', 'Jonas Berg'],
  'Application Support': ['Aisha Rahman', 'Grace Adeyemi', 'Priya Shah'],
  'Security Operations': ['Nina Petrova', 'Sam Okafor', 'Grace Adeyemi'],
};
const OFFICES = ['Leeds', 'Manchester', 'Bristol', 'Glasgow', 'Cardiff', 'Dublin', 'Rotterdam', 'Lyon', 'head', 'Birmingham'];
const VENDORS = ['the ISP', 'Microsoft', 'the printer vendor', 'Cisco TAC', 'the ERP vendor', 'Dell support', 'the telco'];

// Category → subcategories, each with its service, likely groups, and title and description templates.
// {office} {n} {app} {device} {floor} {vendor} are filled in.
const CATALOG = [
  ['network', 'vpn', 'Remote access', ['Network Operations', 'Service Desk'], [
    'VPN drops every {n} minutes for the {office} office', 'Cannot connect to VPN after password change',
    'VPN client stuck on "authenticating" for remote staff', 'Slow VPN throughput for the {office} office since this morning',
  ], ['Users are disconnected from the VPN and have to log in again.', 'The VPN client shows a certificate warning before failing.']],
  ['network', 'wi-fi', 'Corporate Wi-Fi', ['Network Operations'], [
    'Wi-Fi unavailable on floor {floor} of the {office} office', 'Guest Wi-Fi portal does not load',
    'Laptops keep dropping off the corporate Wi-Fi in meeting rooms',
  ], ['Access points on the floor show as offline in the controller.', 'Devices connect but get no IP address.']],
  ['network', 'dns', 'Intranet', ['Network Operations', 'Server & Storage'], [
    'Intranet does not resolve from the {office} office', 'Intermittent DNS failures for internal hosts',
  ], ['Lookups time out roughly one time in five.', 'External names resolve fine; internal ones fail.']],
  ['network', 'connectivity', 'Remote access', ['Network Operations'], [
    'Site link to the {office} office is down', 'Packet loss on the {office} office uplink',
  ], ['Monitoring shows the link flapping.', 'Staff in the office report everything is very slow.']],
  ['software', 'email', 'Email', ['Application Support', 'Service Desk'], [
    'Outlook keeps asking for a password', 'Shared mailbox not visible for the {office} finance team',
    'Emails to external partners stuck in the outbox', 'Calendar invites arrive {n} minutes late',
  ], ['The prompt reappears every few minutes even after entering the right password.', 'Webmail works, the desktop client does not.']],
  ['software', 'application', 'ERP', ['Application Support'], [
    '{app} crashes when exporting a report', '{app} login page returns an error',
    '{app} very slow for the {office} office', 'Cannot save purchase orders in {app}',
  ], ['The error started after last night\'s release.', 'Several users in the same team are affected.']],
  ['software', 'licensing', 'Productivity suite', ['Service Desk', 'Application Support'], [
    'Office shows "unlicensed product" for new starters', 'Design software licence expired for the marketing team',
  ], ['The banner appears on launch and editing is disabled.', 'The licence server reports no seats free.']],
  ['software', 'operating system', 'Laptop fleet', ['Desktop Support'], [
    'Laptops stuck in a reboot loop after the update', 'Blue screen on startup for a finance laptop',
  ], ['The machine restarts before reaching the login screen.', 'It started after the monthly patch.']],
  ['hardware', 'printer', 'Printing', ['Desktop Support', 'Service Desk'], [
    'Printer on floor {floor} jams on every job', 'Cannot print to the {office} office printers',
    'Scanned documents are not arriving by email',
  ], ['The queue shows jobs as sent but nothing prints.', 'The printer display shows an error code.']],
  ['hardware', 'laptop', 'Laptop fleet', ['Desktop Support'], [
    'Laptop battery drains within an hour', 'Laptop will not power on', 'Docking station does not detect external monitors',
  ], ['The user has a client presentation this afternoon.', 'A loan laptop may be needed.']],
  ['hardware', 'server', 'File shares', ['Server & Storage'], [
    'File server in the {office} office unreachable', 'Disk nearly full on the build server', 'Server fan failure alert in rack {n}',
  ], ['Monitoring raised the alert overnight.', 'Users cannot open documents on the shared drive.']],
  ['hardware', 'mobile device', 'Mobile devices', ['Desktop Support', 'Service Desk'], [
    'Company phone not receiving email', 'Cannot enrol a new phone in device management',
  ], ['The phone shows the account as needing attention.', 'The enrolment fails at the last step.']],
  ['database', 'performance', 'Data warehouse', ['Server & Storage', 'Application Support'], [
    'Nightly reports take {n} times longer than usual', 'Database CPU at 100% since the morning',
  ], ['Queries that took seconds now take minutes.', 'The slowdown lines up with the batch window.']],
  ['database', 'availability', 'CRM', ['Server & Storage'], [
    'CRM database failover did not complete', 'Connection pool exhausted on the CRM database',
  ], ['The application shows a generic error page.', 'Failover was triggered by monitoring.']],
  ['database', 'backup', 'Data warehouse', ['Server & Storage'], [
    'Backup job failed {n} nights in a row', 'Restore test of the payroll database failed',
  ], ['The job log ends with a timeout.', 'The backup target reports low free space.']],
  ['security', 'phishing', 'Email', ['Security Operations'], [
    'Suspicious email asking staff to reset passwords', 'User clicked a link in a phishing email',
  ], ['Several people in the {office} office received the same message.', 'The sender spoofs an internal address.']],
  ['security', 'access', 'Identity & SSO', ['Security Operations', 'Service Desk'], [
    'Account locked out repeatedly', 'New starter cannot sign in to SSO', 'MFA prompts not arriving for the {office} office',
  ], ['The account locks again a few minutes after being unlocked.', 'The sign-in log shows failed attempts from an old device.']],
  ['security', 'malware', 'Laptop fleet', ['Security Operations', 'Desktop Support'], [
    'Antivirus quarantined files on a shared laptop', 'Endpoint alert: suspicious process on a sales laptop',
  ], ['The endpoint agent raised a high severity alert.', 'The laptop has been taken off the network.']],
  ['facilities', 'power', 'Building services', ['Server & Storage', 'Service Desk'], [
    'Power outage in the {office} office comms room', 'UPS on battery in the {office} office',
  ], ['The building manager has been informed.', 'Equipment is running on battery.']],
  ['facilities', 'cooling', 'Building services', ['Server & Storage'], [
    'Server room temperature above threshold', 'Air conditioning failed in the {office} comms room',
  ], ['Temperature has been rising for the last hour.', 'A portable unit has been requested.']],
  ['inquiry / help', 'how-to', 'Service desk', ['Service Desk'], [
    'How do I set up email on a new phone?', 'Request for help sharing a calendar', 'How to book a meeting room display',
  ], ['The user would like step-by-step instructions.', 'It is not urgent but blocks onboarding.']],
];
const APPS = ['SAP', 'Salesforce', 'Workday', 'the expenses app', 'the HR portal', 'Jira', 'the payroll system'];
const EXTRA_SENTENCES = [
  'It started around {n}:00 today.', 'The caller has already restarted the device.', 'About {n} users are affected.',
  'No recent changes are known.', 'This is affecting customer calls.', 'A screenshot was attached to the original email.',
  'The problem does not happen from home.', 'It worked fine yesterday.',
];
const WORK_NOTES = [
  'Checked the logs; errors start at {n}:{n}.', 'Restarted the service, monitoring for recurrence.', 'Escalated internally to {group}.',
  'Reproduced the issue on a test account.', 'Collected diagnostics from the affected device.', 'Rolled back the last configuration change.',
  'Opened a case with {vendor}.', 'Firmware is {n} versions behind; scheduling an update.', 'Cleared the cache and re-synced the profile.',
  'Correlated with a monitoring alert from last night.', 'Affected {n} users so far, list attached.', 'Workaround applied for the caller.',
  'Replaced the cable in the patch panel.', 'Certificate on the gateway expires soon; raised a change.',
];
const COMMENTS = [
  'Thanks for reporting this, we are looking into it.', 'Could you tell us when this last worked?', 'Please try again now and let us know.',
  'We have found the cause and are working on a fix.', 'An engineer will visit the {office} office today.', 'Can you send a screenshot of the error?',
  'The issue should be resolved now, please confirm.', 'We are waiting on {vendor} and will update you by end of day.',
];
const HOLD = {
  awaiting_caller: ['Asked the caller for a screenshot of the error', 'Caller is out until Monday; need them to test', 'Waiting for the caller to confirm the device serial'],
  awaiting_change: ['Fix scheduled in change CHG{n}{n}', 'Needs the firewall change approved at CAB'],
  awaiting_problem: ['Linked to a problem record under investigation', 'Root cause tracked in problem PRB{n}{n}'],
  awaiting_vendor: ['Waiting on ISP ticket {n}{n}{n}', 'Case open with {vendor}', 'Replacement part ordered from {vendor}'],
};
const RESOLUTIONS = {
  solution_provided: ['Reconfigured the client and confirmed with the caller.', 'Replaced the faulty part; tested OK.', 'Fixed the configuration and verified the service.'],
  workaround_provided: ['Gave the caller a workaround until the fix is released.', 'Rerouted traffic through the backup link.'],
  known_error: ['Matches a known error; workaround documented in the knowledge base.'],
  resolved_by_change: ['Resolved by the change deployed last night.', 'The approved change fixed the issue.'],
  resolved_by_problem: ['Root cause fixed under the linked problem record.'],
  resolved_by_caller: ['Caller reports it works again after a restart.'],
  not_reproducible: ['Could not reproduce after several tests; caller agrees to close.'],
};
const MINUTE = 60_000;

/** Generates `count` incidents from `seed`: `{ seed, count, incidents }`, the format documented above. */
export function generate(count, seed) {
  const rnd = mulberry32(seed);
  const int = (lo, hi) => lo + Math.floor(rnd() * (hi - lo + 1)); // inclusive
  const pick = (xs) => xs[Math.floor(rnd() * xs.length)];
  const weighted = (pairs) => {
    let r = rnd() * pairs.reduce((s, [, w]) => s + w, 0);
    for (const [v, w] of pairs) if ((r -= w) < 0) return v;
    return pairs[pairs.length - 1][0];
  };
  const fill = (s, ctx) =>
    s.replace(/\{(\w+)\}/g, (_, k) =>
      k === 'n' ? String(int(2, 19)) : k === 'floor' ? String(int(1, 6)) : k === 'office' ? ctx.office
        : k === 'app' ? ctx.app : k === 'vendor' ? pick(VENDORS) : k === 'group' ? pick(Object.keys(GROUPS)) : `{${k}}`);
  const capitalise = (s) => s[0].toUpperCase() + s.slice(1);

  const incidents = [];
  const base = 1_764_000_000_000;
  for (let i = 0; i < count; i++) {
    const [category, subcategory, service, groups, titles, descs] = pick(CATALOG);
    const ctx = { office: pick(OFFICES), app: pick(APPS) };
    const title = capitalise(fill(pick(titles), ctx));
    const sentences = [fill(pick(descs), ctx)];
    for (let k = int(0, 2); k > 0; k--) sentences.push(fill(pick(EXTRA_SENTENCES), ctx));
    const detection = weighted([['user_report', 60], ['monitoring', 20], ['automated_alert', 15], ['other', 5]]);
    const firstGroup = pick(groups);
    const firstAssignee = pick(GROUPS[firstGroup]);
    const author = rnd() < 0.7 ? firstAssignee : pick(GROUPS['Service Desk']);
    const at = base - 90 * 24 * 60 * MINUTE + Math.floor(rnd() * 90 * 24 * 60) * MINUTE;

    // The state transitions, in order, for the state this incident ends in.
    const final = weighted([['new', 5], ['in_progress', 40], ['on_hold', 15], ['resolved', 20], ['closed', 20]]);
    const hold = () => {
      const reason = weighted([['awaiting_caller', 35], ['awaiting_vendor', 30], ['awaiting_change', 20], ['awaiting_problem', 15]]);
      return { type: 'put_on_hold', reason, note: fill(pick(HOLD[reason]), ctx) };
    };
    const steps = [];
    if (final === 'on_hold' && rnd() < 0.15) steps.push(hold()); // held straight from New
    else if (final !== 'new') {
      steps.push({ type: 'start_work' });
      for (let k = weighted([[0, 70], [1, 25], [2, 5]]); k > 0; k--) steps.push(hold(), { type: 'start_work' });
      if (final === 'on_hold') steps.push(hold());
      if (final === 'resolved' || final === 'closed') {
        const code = weighted([['solution_provided', 45], ['workaround_provided', 15], ['known_error', 8], ['resolved_by_change', 10],
          ['resolved_by_problem', 5], ['resolved_by_caller', 10], ['not_reproducible', 7]]);
        steps.push({ type: 'resolve', code, notes: pick(RESOLUTIONS[code]) });
      }
      if (final === 'closed') steps.push({ type: 'close' });
    }
    // Notes anywhere before a close; reassignments only before a resolve.
    const noteSlots = steps.length - (final === 'closed' ? 1 : 0); // insert before index <= noteSlots
    const resolveAt = steps.findIndex((s) => s.type === 'resolve');
    const assignSlots = resolveAt < 0 ? steps.length : resolveAt;
    const inserts = [];
    for (let k = int(3, 20); k > 0; k--) {
      const kind = rnd() < 0.65 ? 'work_note' : 'comment';
      inserts.push([int(0, noteSlots), rnd(), { type: 'note', kind, text: fill(pick(kind === 'work_note' ? WORK_NOTES : COMMENTS), ctx) }]);
    }
    let group = firstGroup;
    for (let k = weighted([[0, 55], [1, 35], [2, 10]]); k > 0; k--) {
      group = rnd() < 0.6 ? group : pick(Object.keys(GROUPS));
      inserts.push([int(0, assignSlots), rnd(), { type: 'assign', group, assignee: pick(GROUPS[group]) }]);
    }
    inserts.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    const sequence = [];
    let s = 0;
    for (const [slot, , event] of inserts) {
      while (s < slot) sequence.push(steps[s++]);
      sequence.push(event);
    }
    while (s < steps.length) sequence.push(steps[s++]);

    // Times and authors: the current assignee does most of the work.
    let t = at;
    let current = firstAssignee;
    const events = sequence.map((e) => {
      t += weighted([[int(1, 30) * MINUTE, 60], [int(30, 240) * MINUTE, 30], [int(4, 48) * 60 * MINUTE, 10]]);
      const by = rnd() < 0.8 ? current : pick(PEOPLE);
      if (e.type === 'assign') current = e.assignee;
      return { at: t, author: by, ...e };
    });
    incidents.push({
      title, description: sentences.join(' '), caller: pick(CALLERS), category, subcategory, service, detection,
      impact: weighted([[1, 15], [2, 45], [3, 40]]), urgency: weighted([[1, 20], [2, 45], [3, 35]]),
      group: firstGroup, assignee: firstAssignee, author, at, events,
    });
  }
  return { seed, count, incidents };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { count: { type: 'string', default: '1000' }, seed: { type: 'string', default: '42' }, out: { type: 'string' } } });
  const json = JSON.stringify(generate(Number(values.count), Number(values.seed)));
  if (values.out) writeFileSync(values.out, json);
  else process.stdout.write(json + '\n');
}
