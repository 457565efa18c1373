// Restricted News Feed, walked through with the unmodified realm-web SDK.
//
// Two authors (Alice and Bob) write posts; Carol reads. Carol sees an
// author's posts only once the author's id is in her custom user data's
// subscribedTo array (put there by the system function subscribeToUser)
// AND her access token carries that custom data (refreshCustomData()).
// Nobody can write custom user data directly, and nobody can write
// someone else's posts.
import assert from "node:assert/strict";
import * as Realm from "realm-web";
import { allowed, appIdOr, baseUrl, note, refused, run, signUp, step, waitForCustomData } from "../../../lib/demo.mjs";

const app = new Realm.App({ id: appIdOr("perm-news-feed-atoll"), baseUrl });

const posts = (who) => who.user.mongoClient("mongodb-atlas").db("Item").collection("Post");
const userData = (who) => who.user.mongoClient("mongodb-atlas").db("Item").collection("User");

/** The posts a user can read, as sorted plain values (ids as hex). */
async function feed(who) {
  const docs = await posts(who).find({}, { sort: { text: 1 } });
  return docs.map((d) => ({ _id: d._id.toHexString(), owner_id: d.owner_id, text: d.text }));
}

/** What a post looks like in a feed. */
const post = (id, owner, text) => ({ _id: id.toHexString(), owner_id: owner.user.id, text });

async function main() {
  const [alice, bob, carol] = await step("Alice and Bob (authors) and Carol (reader) register and log in", async () => {
    const users = [];
    for (const name of ["alice", "bob", "carol"]) {
      const who = await signUp(app, Realm, name);
      note(`${name}: ${who.user.id} (${who.email})`);
      users.push(who);
    }
    return users;
  });

  await step("the onUserCreated trigger gives each user a custom user data document in Item.User", async () => {
    for (const who of [alice, bob, carol]) {
      const data = await waitForCustomData(who);
      assert.deepEqual(data, {
        _id: who.user.id,
        email: who.email,
        team: "",
        isTeamAdmin: false,
        isGlobalAdmin: false,
        subscribedTo: [],
      });
      note(`${who.name}.customData.subscribedTo = []`);
    }
  });

  let a1, a2, b1;
  await step("authors write posts with their own owner_id (write: owner_id == %%user.id)", async () => {
    a1 = (await allowed("Alice inserts 'a1: hello from Alice'", () =>
      posts(alice).insertOne({ owner_id: alice.user.id, text: "a1: hello from Alice" }))).insertedId;
    a2 = (await allowed("Alice inserts 'a2: Alice again'", () =>
      posts(alice).insertOne({ owner_id: alice.user.id, text: "a2: Alice again" }))).insertedId;
    b1 = (await allowed("Bob inserts 'b1: Bob here'", () =>
      posts(bob).insertOne({ owner_id: bob.user.id, text: "b1: Bob here" }))).insertedId;
    await refused("Alice inserts a post in Bob's name", () =>
      posts(alice).insertOne({ owner_id: bob.user.id, text: "forged by Alice" }));
    await refused("Carol inserts a post without an owner_id", () =>
      posts(carol).insertOne({ text: "anonymous" }));
  });

  await step("with no subscriptions, each user reads only their own posts (write implies read)", async () => {
    assert.deepEqual(await feed(alice), [post(a1, alice, "a1: hello from Alice"), post(a2, alice, "a2: Alice again")]);
    note("Alice sees a1, a2");
    assert.deepEqual(await feed(bob), [post(b1, bob, "b1: Bob here")]);
    note("Bob sees b1 (and not the post forged in his name: it was never written)");
    assert.deepEqual(await feed(carol), []);
    note("Carol sees nothing");
    assert.equal(await posts(carol).count({}), 0);
  });

  await step("Carol may not grant herself a subscription by writing her custom user data", async () => {
    const own = await allowed("Carol reads her own Item.User document", () => userData(carol).find({}));
    assert.deepEqual(own.map((d) => d._id), [carol.user.id]);
    note("she sees exactly one document: her own (not Alice's or Bob's)");
    await refused("Carol $push-es Alice's id onto her own subscribedTo", () =>
      userData(carol).updateOne({ _id: carol.user.id }, { $push: { subscribedTo: alice.user.id } }));
    await refused("Carol $set-s her subscribedTo to [Alice, Bob]", () =>
      userData(carol).updateOne({ _id: carol.user.id }, { $set: { subscribedTo: [alice.user.id, bob.user.id] } }));
    await refused("Carol inserts a second custom user data document", () =>
      userData(carol).insertOne({ _id: `${carol.user.id}-2`, subscribedTo: [alice.user.id] }));
    await refused("Carol deletes her custom user data document", () =>
      userData(carol).deleteOne({ _id: carol.user.id }));
    assert.deepEqual((await userData(carol).findOne({ _id: carol.user.id })).subscribedTo, []);
    assert.deepEqual((await carol.user.refreshCustomData()).subscribedTo, []);
    assert.deepEqual(await feed(carol), []);
    note("her custom data is unchanged and she still sees no posts");
    await refused("Carol calls the private onUserCreated function to forge a document", () =>
      carol.user.functions.onUserCreated({ user: { id: `${carol.user.id}-x`, data: { email: "x@example.com" } } }));
  });

  await step("Carol subscribes to Alice through the system function subscribeToUser", async () => {
    const result = await allowed(`subscribeToUser("${alice.email}")`, () => carol.user.functions.subscribeToUser(alice.email));
    assert.equal(result.matchedCount, 1);
    assert.equal(result.modifiedCount, 1);
    note(`updateOne result: matchedCount ${result.matchedCount}, modifiedCount ${result.modifiedCount}`);
    const again = await allowed("subscribing to Alice a second time ($addToSet)", () => carol.user.functions.subscribeToUser(alice.email));
    assert.equal(again.matchedCount, 1);
    assert.equal(again.modifiedCount, 0);
    const missing = await carol.user.functions.subscribeToUser("nobody@example.com");
    assert.deepEqual(missing, { error: "Author nobody@example.com not found" });
    note(`an unknown author: ${JSON.stringify(missing)}`);
  });

  await step("until Carol's token carries the new custom data, her feed is unchanged", async () => {
    assert.deepEqual(carol.user.customData.subscribedTo, []);
    assert.deepEqual(await feed(carol), []);
    note("customData.subscribedTo is still [] in her current access token; she sees nothing");
  });

  await step("after refreshCustomData(), Carol sees Alice's posts, and only Alice's", async () => {
    const data = await carol.user.refreshCustomData();
    assert.deepEqual(data.subscribedTo, [alice.user.id]);
    note(`customData.subscribedTo = [${alice.user.id}] (Alice)`);
    assert.deepEqual(await feed(carol), [post(a1, alice, "a1: hello from Alice"), post(a2, alice, "a2: Alice again")]);
    note("Carol sees a1, a2 and not Bob's b1");
    assert.equal(await posts(carol).count({}), 2);
    assert.equal(await posts(carol).findOne({ _id: b1 }), null);
  });

  await step("a subscriber reads but cannot write the author's posts", async () => {
    await refused("Carol edits Alice's a1", () => posts(carol).updateOne({ _id: a1 }, { $set: { text: "edited by Carol" } }));
    await refused("Carol takes over a1 (owner_id := Carol)", () => posts(carol).updateOne({ _id: a1 }, { $set: { owner_id: carol.user.id } }));
    await refused("Carol deletes Alice's a2", () => posts(carol).deleteOne({ _id: a2 }));
    await refused("Carol deletes every post she can see", () => posts(carol).deleteMany({}));
    assert.deepEqual(await feed(alice), [post(a1, alice, "a1: hello from Alice"), post(a2, alice, "a2: Alice again")]);
    note("Alice's posts are unchanged");
  });

  await step("Bob is not subscribed to anyone: Alice's posts stay invisible to him", async () => {
    assert.deepEqual(await feed(bob), [post(b1, bob, "b1: Bob here")]);
    const res = await posts(bob).updateOne({ _id: a1 }, { $set: { text: "edited by Bob" } });
    assert.equal(res.matchedCount, 0);
    note("Bob's update of a1 matches nothing: he cannot see it");
    const del = await posts(bob).deleteOne({ _id: a1 });
    assert.equal(del.deletedCount, 0);
    assert.deepEqual(await feed(alice), [post(a1, alice, "a1: hello from Alice"), post(a2, alice, "a2: Alice again")]);
  });

  await step("an author edits and deletes their own posts; the subscriber sees the result", async () => {
    const upd = await allowed("Alice edits a1", () => posts(alice).updateOne({ _id: a1 }, { $set: { text: "a1: hello again" } }));
    assert.equal(upd.modifiedCount, 1);
    await refused("Alice gives a1 away to Bob (the result would fail her write filter)", () =>
      posts(alice).updateOne({ _id: a1 }, { $set: { owner_id: bob.user.id } }));
    const del = await allowed("Alice deletes a2", () => posts(alice).deleteOne({ _id: a2 }));
    assert.equal(del.deletedCount, 1);
    assert.deepEqual(await feed(carol), [post(a1, alice, "a1: hello again")]);
    note("Carol now sees only the edited a1");
    assert.deepEqual(await feed(bob), [post(b1, bob, "b1: Bob here")]);
  });

  await step("Carol also subscribes to Bob: after a refresh her feed holds both authors", async () => {
    await allowed(`subscribeToUser("${bob.email}")`, () => carol.user.functions.subscribeToUser(bob.email));
    assert.deepEqual(await feed(carol), [post(a1, alice, "a1: hello again")]);
    note("before the refresh: still only Alice's post");
    const data = await carol.user.refreshCustomData();
    assert.deepEqual(data.subscribedTo, [alice.user.id, bob.user.id]);
    assert.deepEqual(await feed(carol), [post(a1, alice, "a1: hello again"), post(b1, bob, "b1: Bob here")]);
    note("after the refresh: a1 and b1");
  });
}

run(main);
