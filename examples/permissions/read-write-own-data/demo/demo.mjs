// Demo of the "Read & Write Own Data" strategy: every note carries its
// author's user id in owner_id, and a user reads and writes only the notes
// whose owner_id is their own id. Alice and Bob each keep notes; the demo
// checks that neither can see, change, delete or create the other's.
import assert from "node:assert/strict";
import * as Realm from "realm-web";
import { allowed, appIdOr, baseUrl, note, password, refused, run, step, uniqueEmail } from "../../../lib/demo.mjs";

const app = new Realm.App({ id: appIdOr("perm-own-data-atoll"), baseUrl });

async function register(name) {
  const email = uniqueEmail(name);
  await app.emailPasswordAuth.registerUser({ email, password });
  const user = await app.logIn(Realm.Credentials.emailPassword(email, password));
  const notes = user.mongoClient("mongodb-atlas").db("Item").collection("notes");
  return { name, email, user, notes };
}

// Titles of the notes a user sees, sorted, so a check names the exact set.
async function visibleTitles(who) {
  const docs = await who.notes.find({}, { sort: { title: 1 } });
  return docs.map((d) => d.title);
}

async function main() {
  let alice, bob;
  await step("Alice and Bob register (automatic confirmation) and log in", async () => {
    alice = await allowed("register and log in Alice", () => register("alice"));
    bob = await allowed("register and log in Bob", () => register("bob"));
    assert.notEqual(alice.user.id, bob.user.id);
    note(`Alice is ${alice.user.id}, Bob is ${bob.user.id}`);
  });

  const ids = {};
  await step("Each writes notes they own (owner_id is their own id)", async () => {
    for (const title of ["alice: groceries", "alice: gift ideas"]) {
      const res = await allowed(`Alice inserts "${title}"`, () =>
        alice.notes.insertOne({ owner_id: alice.user.id, title, body: "private to Alice" }),
      );
      ids[title] = res.insertedId;
    }
    const res = await allowed('Bob inserts "bob: passwords hint"', () =>
      bob.notes.insertOne({ owner_id: bob.user.id, title: "bob: passwords hint", body: "private to Bob" }),
    );
    ids["bob: passwords hint"] = res.insertedId;
  });

  await step("Nobody can create a note on someone else's behalf", async () => {
    await refused(
      "Alice inserts a note whose owner_id is Bob's id",
      () => alice.notes.insertOne({ owner_id: bob.user.id, title: "alice: forged", body: "planted" }),
      /insert not permitted/,
    );
    await refused(
      "Alice inserts a note with no owner_id at all",
      () => alice.notes.insertOne({ title: "alice: ownerless" }),
      /insert not permitted/,
    );
    await refused(
      "Bob inserts two notes at once, one of them owned by Alice",
      () =>
        bob.notes.insertMany([
          { owner_id: bob.user.id, title: "bob: fine" },
          { owner_id: alice.user.id, title: "bob: forged" },
        ]),
      /insert not permitted/,
    );
    assert.deepEqual(await visibleTitles(bob), ["bob: passwords hint"]);
    assert.deepEqual(await visibleTitles(alice), ["alice: gift ideas", "alice: groceries"]);
    note("no forged, ownerless or partial batch note was stored");
  });

  await step("Each user reads exactly their own notes", async () => {
    const aliceDocs = await allowed("Alice finds all notes", () => alice.notes.find({}, { sort: { title: 1 } }));
    assert.deepEqual(
      aliceDocs.map((d) => [d.title, d.owner_id, d.body]),
      [
        ["alice: gift ideas", alice.user.id, "private to Alice"],
        ["alice: groceries", alice.user.id, "private to Alice"],
      ],
    );
    assert.deepEqual(await visibleTitles(bob), ["bob: passwords hint"]);
    assert.equal(await alice.notes.count({}), 2);
    assert.equal(await bob.notes.count({}), 1);
    note("Alice sees her 2 notes, Bob his 1; counts agree");

    assert.equal(await alice.notes.findOne({ _id: ids["bob: passwords hint"] }), null);
    assert.deepEqual(await alice.notes.find({ owner_id: bob.user.id }), []);
    note("asking for Bob's note by _id or by owner_id returns nothing to Alice");

    const grouped = await allowed("Alice aggregates notes by owner", () =>
      alice.notes.aggregate([{ $group: { _id: "$owner_id", n: { $sum: 1 } } }]),
    );
    assert.deepEqual(grouped, [{ _id: alice.user.id, n: 2 }]);
    note("an aggregation only ever sees Alice's own notes");
  });

  await step("Updates change only the caller's own notes", async () => {
    const own = await allowed("Alice edits her grocery note", () =>
      alice.notes.updateOne({ _id: ids["alice: groceries"] }, { $set: { body: "milk, eggs" } }),
    );
    assert.equal(own.matchedCount, 1);
    assert.equal(own.modifiedCount, 1);

    const other = await allowed("Alice tries to edit Bob's note (it does not match for her)", () =>
      alice.notes.updateOne({ _id: ids["bob: passwords hint"] }, { $set: { body: "hacked" } }),
    );
    assert.equal(other.matchedCount, 0);
    assert.equal(other.modifiedCount, 0);

    const many = await allowed("Bob pins every note he can match", () =>
      bob.notes.updateMany({}, { $set: { pinned: true } }),
    );
    assert.equal(many.matchedCount, 1);

    await refused(
      "Alice hands her note to Bob by rewriting owner_id",
      () => alice.notes.updateOne({ _id: ids["alice: gift ideas"] }, { $set: { owner_id: bob.user.id } }),
      /update not permitted/,
    );

    const bobNote = await bob.notes.findOne({ _id: ids["bob: passwords hint"] });
    assert.equal(bobNote.body, "private to Bob");
    assert.equal(bobNote.pinned, true);
    const gift = await alice.notes.findOne({ _id: ids["alice: gift ideas"] });
    assert.equal(gift.owner_id, alice.user.id);
    assert.equal(gift.pinned, undefined);
    assert.equal((await alice.notes.findOne({ _id: ids["alice: groceries"] })).body, "milk, eggs");
    note("Bob's note kept its body, Alice's note is still hers, Bob's updateMany touched only his note");
  });

  await step("Deletes remove only the caller's own notes", async () => {
    const other = await allowed("Bob tries to delete Alice's grocery note (no match for him)", () =>
      bob.notes.deleteOne({ _id: ids["alice: groceries"] }),
    );
    assert.equal(other.deletedCount, 0);
    const sweep = await allowed("Bob deletes every note he can match", () => bob.notes.deleteMany({}));
    assert.equal(sweep.deletedCount, 1);
    assert.deepEqual(await visibleTitles(bob), []);
    assert.deepEqual(await visibleTitles(alice), ["alice: gift ideas", "alice: groceries"]);
    note("Bob's sweep deleted his one note; Alice's two are intact");

    const own = await allowed("Alice deletes her gift ideas", () => alice.notes.deleteOne({ _id: ids["alice: gift ideas"] }));
    assert.equal(own.deletedCount, 1);
    assert.deepEqual(await visibleTitles(alice), ["alice: groceries"]);
  });
}

run(main);
