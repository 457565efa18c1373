// Demo of the "Write Own Data, Read All Data" strategy: a shared recipe
// book. Everyone reads every recipe; only a recipe's author (owner_id) may
// change or delete it, and new recipes must be one's own. Alice and Bob
// contribute recipes, Carol only reads.
import assert from "node:assert/strict";
import * as Realm from "realm-web";
import { allowed, appIdOr, baseUrl, note, password, refused, run, step, uniqueEmail } from "../../../lib/demo.mjs";

const app = new Realm.App({ id: appIdOr("perm-read-all-atoll"), baseUrl });

async function register(name) {
  const email = uniqueEmail(name);
  await app.emailPasswordAuth.registerUser({ email, password });
  const user = await app.logIn(Realm.Credentials.emailPassword(email, password));
  const recipes = user.mongoClient("mongodb-atlas").db("Item").collection("recipes");
  return { name, email, user, recipes };
}

async function main() {
  let alice, bob, carol;
  await step("Alice, Bob and Carol register (automatic confirmation) and log in", async () => {
    alice = await allowed("register and log in Alice", () => register("alice"));
    bob = await allowed("register and log in Bob", () => register("bob"));
    carol = await allowed("register and log in Carol", () => register("carol"));
  });

  // The recipe book is shared by every user of the app, including those of
  // earlier runs on the same store, so the checks look at this run's authors.
  const ours = () => ({ owner_id: { $in: [alice.user.id, bob.user.id, carol.user.id] } });
  const book = async (who) =>
    (await who.recipes.find(ours(), { sort: { title: 1 } })).map((r) => [r.title, r.owner_id === alice.user.id ? "alice" : r.owner_id === bob.user.id ? "bob" : "carol", r.serves]);

  const ids = {};
  await step("Alice and Bob contribute recipes of their own", async () => {
    for (const [who, title, serves] of [
      [alice, "pancakes", 4],
      [alice, "lemonade", 6],
      [bob, "chili", 8],
    ]) {
      const res = await allowed(`${who.name} adds "${title}"`, () =>
        who.recipes.insertOne({ owner_id: who.user.id, title, serves }),
      );
      ids[title] = res.insertedId;
    }
  });

  const expected = [
    ["chili", "bob", 8],
    ["lemonade", "alice", 6],
    ["pancakes", "alice", 4],
  ];

  await step("Everyone reads every recipe", async () => {
    for (const who of [alice, bob, carol]) {
      const seen = await allowed(`${who.name} lists the recipe book`, () => book(who));
      assert.deepEqual(seen, expected);
    }
    const chili = await allowed("Carol opens Bob's chili by _id", () => carol.recipes.findOne({ _id: ids.chili }));
    assert.equal(chili.owner_id, bob.user.id);
    assert.equal(chili.serves, 8);
    assert.equal(await carol.recipes.count(ours()), 3);
    const perAuthor = await allowed("Carol counts recipes per author", () =>
      carol.recipes.aggregate([{ $match: ours() }, { $group: { _id: "$owner_id", n: { $sum: 1 } } }, { $sort: { n: -1 } }]),
    );
    assert.deepEqual(perAuthor, [
      { _id: alice.user.id, n: 2 },
      { _id: bob.user.id, n: 1 },
    ]);
    const all = await carol.recipes.find({});
    for (const id of Object.values(ids)) {
      assert.ok(all.some((r) => r._id.toString() === id.toString()), "an unfiltered find returns every recipe");
    }
    note("all three see the same three recipes with their authors; Carol wrote none");
  });

  await step("New recipes must be the author's own", async () => {
    await refused(
      "Carol adds a recipe credited to Alice",
      () => carol.recipes.insertOne({ owner_id: alice.user.id, title: "burnt toast", serves: 1 }),
      /insert not permitted/,
    );
    await refused(
      "Bob adds a recipe with no owner_id",
      () => bob.recipes.insertOne({ title: "mystery stew", serves: 2 }),
      /insert not permitted/,
    );
    assert.deepEqual(await book(carol), expected);
    note("neither recipe was stored");
    const res = await allowed('Carol adds "toast" as her own', () =>
      carol.recipes.insertOne({ owner_id: carol.user.id, title: "toast", serves: 1 }),
    );
    ids.toast = res.insertedId;
    assert.deepEqual(await book(alice), [...expected, ["toast", "carol", 1]]);
  });

  await step("Only the author may edit a recipe", async () => {
    const own = await allowed("Alice makes her pancakes serve 5", () =>
      alice.recipes.updateOne({ _id: ids.pancakes }, { $set: { serves: 5 } }),
    );
    assert.equal(own.modifiedCount, 1);
    await refused(
      "Bob changes Alice's lemonade (he can read it, but not write it)",
      () => bob.recipes.updateOne({ _id: ids.lemonade }, { $set: { serves: 100 } }),
      /update not permitted/,
    );
    await refused(
      "Carol replaces Bob's chili wholesale",
      () => carol.recipes.findOneAndReplace({ _id: ids.chili }, { owner_id: carol.user.id, title: "chili", serves: 1 }),
      /update not permitted/,
    );
    await refused(
      "Alice claims Bob's chili by setting owner_id to herself",
      () => alice.recipes.updateOne({ _id: ids.chili }, { $set: { owner_id: alice.user.id } }),
      /update not permitted/,
    );
    await refused(
      "Bob rates every recipe in one updateMany (it reaches others' recipes too)",
      () => bob.recipes.updateMany({}, { $set: { rating: 5 } }),
      /update not permitted/,
    );
    const after = await carol.recipes.find(ours(), { sort: { title: 1 } });
    assert.deepEqual(
      after.map((r) => [r.title, r.serves, r.rating]),
      [
        ["chili", 8, undefined],
        ["lemonade", 6, undefined],
        ["pancakes", 5, undefined],
        ["toast", 1, undefined],
      ],
    );
    assert.equal(after.find((r) => r.title === "chili").owner_id, bob.user.id);
    note("only Alice's own edit landed; the refused updateMany changed none, not even Bob's own chili");
    const mine = await allowed("Bob rates his own recipes", () =>
      bob.recipes.updateMany({ owner_id: bob.user.id }, { $set: { rating: 5 } }),
    );
    assert.equal(mine.modifiedCount, 1);
    assert.equal((await alice.recipes.findOne({ _id: ids.chili })).rating, 5);
  });

  await step("Only the author may delete a recipe", async () => {
    await refused(
      "Carol deletes Alice's pancakes",
      () => carol.recipes.deleteOne({ _id: ids.pancakes }),
      /delete not permitted/,
    );
    await refused(
      "Alice clears the whole book with deleteMany",
      () => alice.recipes.deleteMany({}),
      /delete not permitted/,
    );
    assert.deepEqual(
      (await book(bob)).map(([title]) => title),
      ["chili", "lemonade", "pancakes", "toast"],
    );
    note("all four recipes survive");
    const own = await allowed("Alice deletes her own recipes", () =>
      alice.recipes.deleteMany({ owner_id: alice.user.id }),
    );
    assert.equal(own.deletedCount, 2);
    assert.deepEqual(await book(carol), [
      ["chili", "bob", 8],
      ["toast", "carol", 1],
    ]);
  });
}

run(main);
