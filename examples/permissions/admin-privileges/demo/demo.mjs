// Demo of the "Administrator Privileges" strategy: ordinary users read and
// write only their own items (owner_id), while a user whose custom user data
// says isGlobalAdmin: true reads and writes every item. The flag lives in
// Item.User, created for each new user by the onUserCreated authentication
// trigger; clients cannot write it, so only the server-API-key-only system
// function setGlobalAdmin can promote (or demote) someone.
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import * as Realm from "realm-web";
import { allowed, appIdOr, baseUrl, note, password, refused, run, step, uniqueEmail } from "../../../lib/demo.mjs";

const app = new Realm.App({ id: appIdOr("perm-admin-atoll"), baseUrl });
const serverApiKey = process.env.ATOLL_SERVER_API_KEY;

function handle(name, email, user) {
  const db = user.mongoClient("mongodb-atlas").db("Item");
  return { name, email, user, items: db.collection("items"), profiles: db.collection("User") };
}

async function register(name) {
  const email = uniqueEmail(name);
  await app.emailPasswordAuth.registerUser({ email, password });
  const user = await app.logIn(Realm.Credentials.emailPassword(email, password));
  return handle(name, email, user);
}

// The onUserCreated trigger runs asynchronously after the user is created,
// as in App Services, so the custom user data document appears shortly
// after the first login. Wait for it (bounded), then return it.
async function customDataOf(who) {
  for (let i = 0; i < 100; i++) {
    const data = await who.user.refreshCustomData();
    if (data && data._id) return data;
    await sleep(100);
  }
  throw new Error(`the onUserCreated trigger never created ${who.name}'s custom user data`);
}

async function main() {
  assert.ok(
    serverApiKey,
    "ATOLL_SERVER_API_KEY must hold a server API key (scripts/demos.sh makes one; by hand: atoll apikeys create --name demo)",
  );

  let alice, bob, dana;
  await step("Alice, Bob and Dana register and log in; onUserCreated gives each a custom user data document", async () => {
    alice = await allowed("register and log in Alice", () => register("alice"));
    bob = await allowed("register and log in Bob", () => register("bob"));
    dana = await allowed("register and log in Dana", () => register("dana"));
    for (const who of [alice, bob, dana]) {
      const data = await customDataOf(who);
      assert.equal(data._id, who.user.id);
      assert.equal(data.email, who.email);
      assert.equal(data.isGlobalAdmin, false);
      assert.deepEqual(who.user.customData, data);
    }
    note("each custom user data document has _id = user id, the email and isGlobalAdmin: false");
  });

  const runOwners = () => ({ owner_id: { $in: [alice.user.id, bob.user.id, dana.user.id] } });
  const owner = (id) => ({ [alice.user.id]: "alice", [bob.user.id]: "bob", [dana.user.id]: "dana" })[id] ?? id;
  // What a user sees of this run's items, as [title, owner name] pairs.
  const sees = async (who) =>
    (await who.items.find(runOwners(), { sort: { title: 1 } })).map((d) => [d.title, owner(d.owner_id)]);

  const ids = {};
  await step("Everyone, Dana included, starts as an ordinary user: own items only", async () => {
    for (const [who, title] of [
      [alice, "alice-1"],
      [alice, "alice-2"],
      [bob, "bob-1"],
      [dana, "dana-1"],
    ]) {
      const res = await allowed(`${who.name} inserts ${title}`, () =>
        who.items.insertOne({ owner_id: who.user.id, title, status: "open" }),
      );
      ids[title] = res.insertedId;
    }
    assert.deepEqual(await sees(alice), [
      ["alice-1", "alice"],
      ["alice-2", "alice"],
    ]);
    assert.deepEqual(await sees(bob), [["bob-1", "bob"]]);
    assert.deepEqual(await sees(dana), [["dana-1", "dana"]]);
    await refused(
      "Dana inserts an item owned by Bob",
      () => dana.items.insertOne({ owner_id: bob.user.id, title: "dana-forged" }),
      /insert not permitted/,
    );
    const other = await allowed("Dana updates Bob's item (no match for her)", () =>
      dana.items.updateOne({ _id: ids["bob-1"] }, { $set: { status: "closed" } }),
    );
    assert.equal(other.matchedCount, 0);
    const gone = await allowed("Dana deletes Alice's items (no match for her)", () =>
      dana.items.deleteMany({ owner_id: alice.user.id }),
    );
    assert.equal(gone.deletedCount, 0);
    assert.deepEqual(await sees(bob), [["bob-1", "bob"]]);
    assert.equal((await bob.items.findOne({ _id: ids["bob-1"] })).status, "open");
    assert.equal(await alice.items.count(runOwners()), 2);
    note("Dana saw and changed nothing of Bob's or Alice's; the forged item was not stored");
  });

  await step("No client can make itself an administrator", async () => {
    const own = await allowed("Dana reads her own custom user data document", () =>
      dana.profiles.findOne({ _id: dana.user.id }),
    );
    assert.equal(own.isGlobalAdmin, false);
    assert.equal(await dana.profiles.findOne({ _id: alice.user.id }), null);
    assert.deepEqual(
      (await dana.profiles.find({})).map((d) => d._id),
      [dana.user.id],
    );
    note("Dana sees her own custom user data and nobody else's");
    await refused(
      "Dana sets isGlobalAdmin: true in her own custom user data",
      () => dana.profiles.updateOne({ _id: dana.user.id }, { $set: { isGlobalAdmin: true } }),
      /update not permitted/,
    );
    await refused(
      "Dana replaces her custom user data document",
      () => dana.profiles.findOneAndReplace({ _id: dana.user.id }, { email: dana.email, isGlobalAdmin: true }),
      /update not permitted/,
    );
    await refused(
      "Dana deletes her custom user data document (to plant a new one)",
      () => dana.profiles.deleteOne({ _id: dana.user.id }),
      /delete not permitted/,
    );
    await refused(
      "Dana inserts a second custom user data document for herself",
      () => dana.profiles.insertOne({ _id: `${dana.user.id}-2`, email: dana.email, isGlobalAdmin: true }),
      /insert not permitted/,
    );
    await refused(
      "Dana calls setGlobalAdmin for herself (server API keys only)",
      () => dana.user.callFunction("setGlobalAdmin", dana.email, true),
      /rule not matched for function/,
    );
    await refused(
      "Dana calls the onUserCreated trigger function directly (private)",
      () => dana.user.callFunction("onUserCreated", { user: { id: `${dana.user.id}x`, data: { email: dana.email } } }),
    );
    const data = await dana.user.refreshCustomData();
    assert.equal(data.isGlobalAdmin, false);
    assert.deepEqual(await sees(dana), [["dana-1", "dana"]]);
    note("after all that, Dana's custom user data still says isGlobalAdmin: false and she sees only her item");
  });

  await step("An operator promotes Dana with a server API key", async () => {
    const server = await allowed("log in with the server API key", () =>
      app.logIn(Realm.Credentials.apiKey(serverApiKey)),
    );
    const result = await allowed("the server user calls setGlobalAdmin(Dana, true)", () =>
      server.callFunction("setGlobalAdmin", dana.email, true),
    );
    assert.deepEqual(result, { email: dana.email, isGlobalAdmin: true });
    await refused(
      "setGlobalAdmin for an email nobody registered",
      () => server.callFunction("setGlobalAdmin", uniqueEmail("nobody"), true),
      /no custom user data for/,
    );
    await server.logOut();

    assert.deepEqual(await sees(dana), [["dana-1", "dana"]]);
    note("Dana's current access token still carries the old custom data: she is not an admin yet");
    const data = await allowed("Dana refreshes her custom user data (a new access token)", () =>
      dana.user.refreshCustomData(),
    );
    assert.equal(data.isGlobalAdmin, true);
  });

  await step("Administrator Dana reads and writes every item", async () => {
    assert.deepEqual(await sees(dana), [
      ["alice-1", "alice"],
      ["alice-2", "alice"],
      ["bob-1", "bob"],
      ["dana-1", "dana"],
    ]);
    assert.deepEqual(await sees(alice), [
      ["alice-1", "alice"],
      ["alice-2", "alice"],
    ]);
    note("Dana now sees all four items; Alice still sees only her two");

    const upd = await allowed("Dana closes Bob's item", () =>
      dana.items.updateOne({ _id: ids["bob-1"] }, { $set: { status: "closed", closed_by: dana.user.id } }),
    );
    assert.equal(upd.modifiedCount, 1);
    const bobItem = await bob.items.findOne({ _id: ids["bob-1"] });
    assert.equal(bobItem.status, "closed");
    assert.equal(bobItem.closed_by, dana.user.id);

    const ins = await allowed("Dana files an item on Alice's behalf", () =>
      dana.items.insertOne({ owner_id: alice.user.id, title: "alice-3", status: "open" }),
    );
    ids["alice-3"] = ins.insertedId;
    assert.deepEqual(await sees(alice), [
      ["alice-1", "alice"],
      ["alice-2", "alice"],
      ["alice-3", "alice"],
    ]);

    const del = await allowed("Dana deletes Alice's alice-1", () => dana.items.deleteOne({ _id: ids["alice-1"] }));
    assert.equal(del.deletedCount, 1);
    assert.deepEqual(await sees(alice), [
      ["alice-2", "alice"],
      ["alice-3", "alice"],
    ]);
    note("Bob sees Dana's change to his item; Alice sees the item Dana filed and not the one she deleted");

    // Item.User has its own rules, so the admin role of the default rule
    // does not reach it: custom user data stays out of clients' hands.
    const bobs = await allowed("administrator Dana tries to promote Bob through Item.User (no match: she can't see his)", () =>
      dana.profiles.updateOne({ _id: bob.user.id }, { $set: { isGlobalAdmin: true } }),
    );
    assert.equal(bobs.matchedCount, 0);
    await refused(
      "administrator Dana edits her own custom user data from the client",
      () => dana.profiles.updateOne({ _id: dana.user.id }, { $set: { team: "ops" } }),
      /update not permitted/,
    );
    assert.equal((await bob.user.refreshCustomData()).isGlobalAdmin, false);
    assert.equal((await dana.user.refreshCustomData()).team, "");
    note("custom user data is still written only by setGlobalAdmin and onUserCreated");
  });

  await step("Ordinary users are unaffected by Dana's promotion", async () => {
    const res = await allowed("Bob edits Alice's item (he can't see it, so it does not match)", () =>
      bob.items.updateOne({ _id: ids["alice-2"] }, { $set: { status: "closed" } }),
    );
    assert.equal(res.matchedCount, 0);
    await refused(
      "Bob files an item on Alice's behalf, as Dana just did",
      () => bob.items.insertOne({ owner_id: alice.user.id, title: "bob-forged" }),
      /insert not permitted/,
    );
    assert.equal((await alice.items.findOne({ _id: ids["alice-2"] })).status, "open");
    assert.deepEqual(await sees(bob), [["bob-1", "bob"]]);
  });

  await step("Demoting Dana takes effect at her next token refresh", async () => {
    const server = await app.logIn(Realm.Credentials.apiKey(serverApiKey));
    await allowed("the server user calls setGlobalAdmin(Dana, false)", () =>
      server.callFunction("setGlobalAdmin", dana.email, false),
    );
    await server.logOut();
    assert.equal((await dana.user.refreshCustomData()).isGlobalAdmin, false);
    assert.deepEqual(await sees(dana), [["dana-1", "dana"]]);
    const res = await allowed("Dana tries to reopen Bob's item again (no match now)", () =>
      dana.items.updateOne({ _id: ids["bob-1"] }, { $set: { status: "open" } }),
    );
    assert.equal(res.matchedCount, 0);
    assert.equal((await bob.items.findOne({ _id: ids["bob-1"] })).status, "closed");
    note("Dana is back to her own item only");
  });
}

run(main);
