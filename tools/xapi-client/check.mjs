// Drives recert's LRS with @xapi/xapi, a real xAPI client library, as an LMS would: sends
// statements, queries them with agent, verb and since filters, pages with `more`, voids
// one and reads it back. Prints one JSON line of what it saw; exits non-zero on the first
// answer that is not what xAPI 1.0.3 requires.
//
//   node check.mjs ENDPOINT KEY SECRET
import XAPI from "@xapi/xapi";

const [endpoint, key, secret] = process.argv.slice(2);
const xapi = new XAPI({ endpoint, auth: XAPI.toBasicAuth(key, secret), adapter: "fetch" });
const seen = {};
const fail = (what, detail) => {
  console.log(JSON.stringify({ ok: false, failed: what, detail: String(detail), seen }));
  process.exit(1);
};
const expect = (what, cond, detail) => { if (!cond) fail(what, detail); };

const ana = { objectType: "Agent", name: "Ana", mbox: "mailto:ana.client@example.com" };
const ben = { objectType: "Agent", name: "Ben", mbox: "mailto:ben.client@example.com" };
const activity = (id) => ({ objectType: "Activity", id, definition: { name: { "en-US": id } } });

const about = (await xapi.getAbout()).data;
seen.about = about;
expect("about names 1.0.3", about.version.includes("1.0.3"), JSON.stringify(about));

const first = (await xapi.sendStatement({ statement: {
  actor: ana, verb: { id: "http://adlnet.gov/expapi/verbs/experienced", display: { "en-US": "experienced" } },
  object: activity("http://example.com/client/intro"),
} })).data;
expect("one statement stored, its id answered", first.length === 1, JSON.stringify(first));
// `since` is exclusive: everything after the first statement's stored instant.
const stored = (await xapi.getStatement({ statementId: first[0] })).data;
seen.stored = stored.stored;
expect("stored statement read back", stored.id === first[0] && stored.stored, JSON.stringify(stored));
// One at a time, a little apart: the LRS orders by the instant it stored each.
const send = async (statement) => {
  await new Promise((r) => setTimeout(r, 15));
  const answer = (await xapi.sendStatement({ statement })).data;
  expect("one id per statement", answer.length === 1, JSON.stringify(answer));
  return answer[0];
};
const attempted = { id: "http://adlnet.gov/expapi/verbs/attempted", display: { "en-US": "attempted" } };
const more = [
  await send({ actor: ana, verb: attempted, object: activity("http://example.com/client/quiz") }),
  await send({ actor: ben, verb: attempted, object: activity("http://example.com/client/quiz") }),
  await send({ actor: ana, verb: XAPI.Verbs.PASSED, object: activity("http://example.com/client/quiz"), result: { success: true, score: { scaled: 0.9 } } }),
];

const ids = (r) => r.data.statements.map((s) => s.id);
const byAgent = await xapi.getStatements({ agent: ana });
seen.byAgent = ids(byAgent);
expect("agent filter: ana's three, newest first", JSON.stringify(ids(byAgent)) === JSON.stringify([more[2], more[0], first[0]]), seen.byAgent);
const byVerb = await xapi.getStatements({ verb: "http://adlnet.gov/expapi/verbs/attempted" });
seen.byVerb = ids(byVerb);
expect("verb filter: the two attempts", JSON.stringify(ids(byVerb)) === JSON.stringify([more[1], more[0]]), seen.byVerb);
const since = await xapi.getStatements({ agent: ana, since: stored.stored, ascending: true });
seen.since = ids(since);
expect("since filter (exclusive), ascending", JSON.stringify(ids(since)) === JSON.stringify([more[0], more[2]]), seen.since);
expect("consistent-through header", byAgent.headers["x-experience-api-consistent-through"], JSON.stringify(byAgent.headers));

// Paging: one at a time through `more`.
const paged = [];
let page = await xapi.getStatements({ limit: 1, ascending: true });
for (;;) {
  paged.push(...ids(page));
  if (!page.data.more) break;
  page = await xapi.getMoreStatements({ more: page.data.more });
}
seen.paged = paged;
expect("paging through more reaches every statement once",
  JSON.stringify(paged) === JSON.stringify([first[0], ...more]), paged);

// Voiding.
const voiding = (await xapi.voidStatement({ actor: ana, statementId: more[1] })).data;
seen.voiding = voiding;
let hidden = false;
try { await xapi.getStatement({ statementId: more[1] }); } catch { hidden = true; }
expect("a voided statement is not answered by statementId", hidden, "it was");
const voided = (await xapi.getVoidedStatement({ voidedStatementId: more[1] })).data;
expect("a voided statement is answered by voidedStatementId", voided.id === more[1], JSON.stringify(voided));
const afterVoid = await xapi.getStatements({ verb: "http://adlnet.gov/expapi/verbs/attempted" });
expect("a voided statement leaves the queries", JSON.stringify(ids(afterVoid)) === JSON.stringify([more[0]]), ids(afterVoid));

// An invalid statement is refused.
let refused = null;
try {
  await xapi.sendStatement({ statement: { actor: ana, verb: { id: "experienced" }, object: activity("http://example.com/x") } });
} catch (e) { refused = e; }
expect("a verb id that is not an IRI is refused", refused, "it was accepted");
const status = refused.response?.status ?? (String(refused.message).includes("verb.id") ? 400 : 0);
expect("refused with 400 naming verb.id", status === 400, refused.message);

// Several statements in one request: their ids, in order.
const batch = (await xapi.sendStatements({ statements: [
  { actor: ben, verb: XAPI.Verbs.COMPLETED, object: activity("http://example.com/client/a") },
  { actor: ben, verb: XAPI.Verbs.COMPLETED, object: activity("http://example.com/client/b") },
] })).data;
expect("a batch answers one id per statement", batch.length === 2 && batch[0] !== batch[1], JSON.stringify(batch));

console.log(JSON.stringify({ ok: true, seen }));
