// Dynamic Collaboration, walked through with the unmodified realm-web SDK.
//
// Alice owns notes and shares one with Bob by putting Bob's user id (found
// with the system function findUser) into the note's collaborators array.
// The owner and the collaborators may read and write a note; everyone
// else does not even see it. Eve is the outsider.
import assert from "node:assert/strict";
import * as Realm from "realm-web";
import { allowed, appIdOr, baseUrl, note, refused, run, signUp, step, waitForCustomData } from "../../../lib/demo.mjs";

const app = new Realm.App({ id: appIdOr("perm-collaboration-atoll"), baseUrl });

const notes = (who) => who.user.mongoClient("mongodb-atlas").db("Item").collection("Note");
const userData = (who) => who.user.mongoClient("mongodb-atlas").db("Item").collection("User");

/** The notes a user can read, as sorted plain values. */
async function visible(who) {
  const docs = await notes(who).find({}, { sort: { title: 1 } });
  return docs.map(plain);
}

function plain(d) {
  return { _id: d._id.toHexString(), owner_id: d.owner_id, collaborators: d.collaborators, title: d.title, body: d.body };
}

/** Reads one note as its owner, to check what is really stored. */
async function stored(owner, id) {
  const d = await notes(owner).findOne({ _id: id });
  return d && plain(d);
}

async function main() {
  const [alice, bob, eve] = await step("Alice (owner), Bob (future collaborator) and Eve (outsider) register and log in", async () => {
    const users = [];
    for (const name of ["alice", "bob", "eve"]) {
      const who = await signUp(app, Realm, name);
      await waitForCustomData(who);
      note(`${name}: ${who.user.id} (${who.email}); onUserCreated wrote Item.User`);
      users.push(who);
    }
    return users;
  });
  const nid = (who) => who.user.id;

  let plan, diary, evesNote;
  await step("each user creates notes they own (write: owner_id == %%user.id)", async () => {
    plan = (await allowed("Alice inserts 'plan' with no collaborators", () =>
      notes(alice).insertOne({ owner_id: nid(alice), collaborators: [], title: "plan", body: "v1" }))).insertedId;
    diary = (await allowed("Alice inserts 'diary'", () =>
      notes(alice).insertOne({ owner_id: nid(alice), collaborators: [], title: "diary", body: "secret" }))).insertedId;
    evesNote = (await allowed("Eve inserts 'eve-list'", () =>
      notes(eve).insertOne({ owner_id: nid(eve), collaborators: [], title: "eve-list", body: "e" }))).insertedId;
    await refused("Eve inserts a note owned by Alice", () =>
      notes(eve).insertOne({ owner_id: nid(alice), collaborators: [], title: "forged", body: "x" }));
    // The write filter would pass (Eve is a collaborator); the schema's
    // required owner_id refuses it.
    await refused("Eve inserts a note with no owner_id, listing herself as collaborator", () =>
      notes(eve).insertOne({ collaborators: [nid(eve)], title: "ownerless", body: "x" }));
  });

  await step("a note is visible only to its owner and collaborators (there is no read rule: write implies read)", async () => {
    assert.deepEqual((await visible(alice)).map((n) => n.title), ["diary", "plan"]);
    note("Alice sees diary, plan");
    assert.deepEqual(await visible(bob), []);
    note("Bob sees nothing");
    assert.deepEqual(await visible(eve), [
      { _id: evesNote.toHexString(), owner_id: nid(eve), collaborators: [], title: "eve-list", body: "e" },
    ]);
    note("Eve sees eve-list (the forged notes were never written)");
  });

  await step("findUser turns an email into a user id (a public system function)", async () => {
    const id = await allowed(`Alice calls findUser("${bob.email}")`, () => alice.user.functions.findUser(bob.email));
    assert.equal(id, nid(bob));
    note(`-> ${id} (Bob)`);
    assert.equal(await alice.user.functions.findUser("nobody@example.com"), null);
    note("an unknown email -> null");
    assert.deepEqual((await userData(eve).find({})).map((d) => d._id), [nid(eve)]);
    note("reading Item.User directly shows a user only their own document");
    await refused("Eve edits her custom user data", () =>
      userData(eve).updateOne({ _id: nid(eve) }, { $set: { email: alice.email } }));
    assert.equal(await eve.user.functions.findUser(alice.email), nid(alice));
    note("so findUser still maps Alice's email to Alice");
  });

  await step("outsiders can neither see nor join Alice's note", async () => {
    const res = await notes(eve).updateOne({ _id: plan }, { $addToSet: { collaborators: nid(eve) } });
    assert.equal(res.matchedCount, 0);
    note("Eve adding herself to 'plan' matches nothing");
    const del = await notes(eve).deleteOne({ _id: plan });
    assert.equal(del.deletedCount, 0);
    assert.deepEqual((await stored(alice, plan)).collaborators, []);
  });

  await step("Alice adds Bob as a collaborator on 'plan' (a client-side update)", async () => {
    const bobId = await alice.user.functions.findUser(bob.email);
    const res = await allowed("Alice $addToSet collaborators: Bob", () =>
      notes(alice).updateOne({ _id: plan }, { $addToSet: { collaborators: bobId } }));
    assert.equal(res.modifiedCount, 1);
  });

  await step("Bob now reads and edits 'plan', and only 'plan'", async () => {
    assert.deepEqual(await visible(bob), [
      { _id: plan.toHexString(), owner_id: nid(alice), collaborators: [nid(bob)], title: "plan", body: "v1" },
    ]);
    note("Bob sees plan (no token refresh needed: the grant is in the document)");
    const res = await allowed("Bob edits the body of 'plan'", () =>
      notes(bob).updateOne({ _id: plan }, { $set: { body: "v2 by Bob" } }));
    assert.equal(res.modifiedCount, 1);
    assert.equal((await stored(alice, plan)).body, "v2 by Bob");
    note("Alice sees Bob's edit");
    const diaryRes = await notes(bob).updateOne({ _id: diary }, { $set: { body: "read by Bob" } });
    assert.equal(diaryRes.matchedCount, 0);
    assert.equal((await stored(alice, diary)).body, "secret");
    note("Bob's update of 'diary' matches nothing; it is unchanged");
  });

  await step("no one may leave a note in a state they could not write", async () => {
    await refused("Bob removes every collaborator (he would lose write access)", () =>
      notes(bob).updateOne({ _id: plan }, { $set: { collaborators: [] } }));
    await refused("Alice gives 'diary' to Eve", () =>
      notes(alice).updateOne({ _id: diary }, { $set: { owner_id: nid(eve) } }));
    assert.deepEqual((await stored(alice, plan)).collaborators, [nid(bob)]);
    assert.equal((await stored(alice, diary)).owner_id, nid(alice));
    note("both notes are unchanged");
  });

  await step("the guide's caveat: a collaborator may add further collaborators", async () => {
    const eveId = await bob.user.functions.findUser(eve.email);
    await allowed("Bob adds Eve to 'plan'", () =>
      notes(bob).updateOne({ _id: plan }, { $addToSet: { collaborators: eveId } }));
    assert.deepEqual((await visible(eve)).map((n) => n.title), ["eve-list", "plan"]);
    note("Eve now sees plan: write access is all-or-nothing, as the guide warns");
    await allowed("Alice removes Eve and Bob again", () =>
      notes(alice).updateOne({ _id: plan }, { $pull: { collaborators: { $in: [eveId, nid(bob)] } } }));
    assert.deepEqual((await visible(eve)).map((n) => n.title), ["eve-list"]);
    assert.deepEqual(await visible(bob), []);
    note("Bob and Eve no longer see plan");
    const res = await notes(bob).updateOne({ _id: plan }, { $set: { body: "too late" } });
    assert.equal(res.matchedCount, 0);
    assert.equal((await stored(alice, plan)).body, "v2 by Bob");
  });

  await step("deleting follows write access too", async () => {
    const scratch = (await notes(eve).insertOne({ owner_id: nid(eve), collaborators: [nid(alice)], title: "scratch", body: "s" })).insertedId;
    note("Eve shares a new note 'scratch' with Alice");
    assert.deepEqual((await visible(alice)).map((n) => n.title), ["diary", "plan", "scratch"]);
    const del = await allowed("Alice (a collaborator) deletes 'scratch'", () => notes(alice).deleteOne({ _id: scratch }));
    assert.equal(del.deletedCount, 1);
    assert.deepEqual((await visible(eve)).map((n) => n.title), ["eve-list"]);
    const bobDel = await notes(bob).deleteMany({});
    assert.equal(bobDel.deletedCount, 0);
    note("Bob's deleteMany({}) deletes nothing: he can see no note");
    const own = await allowed("Alice deletes her 'diary'", () => notes(alice).deleteOne({ _id: diary }));
    assert.equal(own.deletedCount, 1);
    assert.deepEqual((await visible(alice)).map((n) => n.title), ["plan"]);
    assert.deepEqual((await visible(eve)).map((n) => n.title), ["eve-list"]);
  });
}

run(main);
