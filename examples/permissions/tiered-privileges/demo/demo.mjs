// Tiered Privileges, walked through with the unmodified realm-web SDK.
//
// Team membership (`team`) and the team administrator flag (`isTeamAdmin`)
// live in custom user data that only an administrator changes, through
// system functions callable by server API key users alone. Team members
// read every task of their team and write their own; the team admin
// writes every task of the team. Alice is red's admin, Bob is on red,
// Carol on blue, Dave on no team.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import * as Realm from "realm-web";
import { allowed, appIdOr, baseUrl, note, refused, run, signUp, step, waitForCustomData } from "../../../lib/demo.mjs";

const app = new Realm.App({ id: appIdOr("perm-tiered-atoll"), baseUrl });
const serverApiKey = process.env.ATOLL_SERVER_API_KEY;

// Team names unique to this run, so the demo can run again on the same
// store without seeing the tasks of earlier runs' teams.
const tag = randomBytes(3).toString("hex");
const RED = `red-${tag}`;
const BLUE = `blue-${tag}`;

const tasks = (who) => who.user.mongoClient("mongodb-atlas").db("Item").collection("Task");
const userData = (who) => who.user.mongoClient("mongodb-atlas").db("Item").collection("User");

/** The titles of the tasks a user can read, sorted. */
async function titles(who) {
  const docs = await tasks(who).find({}, { sort: { title: 1 } });
  return docs.map((d) => d.title);
}

/** A task as stored, read by someone who may see it. */
async function stored(reader, id) {
  const d = await tasks(reader).findOne({ _id: id });
  return d && { owner_id: d.owner_id, team: d.team, title: d.title, status: d.status };
}

/** The custom data fields this scenario is about, from the token. */
async function refreshed(who) {
  const { team, isTeamAdmin } = await who.user.refreshCustomData();
  return { team, isTeamAdmin };
}

async function main() {
  if (!serverApiKey) {
    throw new Error("ATOLL_SERVER_API_KEY is not set: make a server API key (atoll apikeys create --name demo, server stopped) and export it");
  }

  const [alice, bob, carol, dave] = await step("Alice, Bob, Carol and Dave register and log in", async () => {
    const users = [];
    for (const name of ["alice", "bob", "carol", "dave"]) {
      const who = await signUp(app, Realm, name);
      const data = await waitForCustomData(who);
      assert.deepEqual(data, {
        _id: who.user.id, email: who.email, team: "", isTeamAdmin: false, isGlobalAdmin: false, subscribedTo: [],
      });
      note(`${name}: ${who.user.id}; onUserCreated wrote {team: "", isTeamAdmin: false}`);
      users.push(who);
    }
    return users;
  });

  await step("users cannot put themselves on a team or make themselves admin", async () => {
    await refused("Bob calls joinTeam(bob, 'red')", () => bob.user.functions.joinTeam(bob.user.id, RED));
    await refused("Alice calls setTeamAdmin(alice, true)", () => alice.user.functions.setTeamAdmin(alice.user.id, true));
    await refused("Bob $set-s team: 'red' in his custom user data", () =>
      userData(bob).updateOne({ _id: bob.user.id }, { $set: { team: RED } }));
    await refused("Alice $set-s isTeamAdmin: true in her custom user data", () =>
      userData(alice).updateOne({ _id: alice.user.id }, { $set: { isTeamAdmin: true } }));
    await refused("Bob inserts a custom user data document for a made-up id", () =>
      userData(bob).insertOne({ _id: "not-yet-a-user", owner_id: bob.user.id, team: RED, isTeamAdmin: true }));
    assert.deepEqual(await refreshed(bob), { team: "", isTeamAdmin: false });
    assert.deepEqual(await refreshed(alice), { team: "", isTeamAdmin: false });
    assert.deepEqual((await userData(bob).find({})).map((d) => d._id), [bob.user.id]);
    note("custom data unchanged; a user reads only their own Item.User document");
  });

  const admin = await step("an administrator (server API key) assigns teams and the red team admin", async () => {
    const user = await app.logIn(Realm.Credentials.apiKey(serverApiKey));
    const who = { user, name: "administrator" };
    note(`logged in with the server API key as ${user.id}`);
    for (const [member, team] of [[alice, RED], [bob, RED], [carol, BLUE]]) {
      const res = await allowed(`joinTeam(${member.name}, "${team}")`, () => user.functions.joinTeam(member.user.id, team));
      assert.equal(res.matchedCount, 1);
      assert.equal(res.modifiedCount, 1);
    }
    const res = await allowed("setTeamAdmin(alice, true)", () => user.functions.setTeamAdmin(alice.user.id, true));
    assert.equal(res.modifiedCount, 1);
    const nobody = await user.functions.joinTeam("no-such-user", RED);
    assert.equal(nobody.matchedCount, 0);
    note("joinTeam of an unknown id matches nothing (upsert: false)");
    return who;
  });

  await step("the new roles take effect once each token carries the new custom data", async () => {
    assert.deepEqual({ team: bob.user.customData.team }, { team: "" });
    note("Bob's current token still says team \"\"");
    assert.deepEqual(await refreshed(alice), { team: RED, isTeamAdmin: true });
    assert.deepEqual(await refreshed(bob), { team: RED, isTeamAdmin: false });
    assert.deepEqual(await refreshed(carol), { team: BLUE, isTeamAdmin: false });
    assert.deepEqual(await refreshed(dave), { team: "", isTeamAdmin: false });
    note("after refreshCustomData(): Alice red admin, Bob red, Carol blue, Dave none");
  });

  let aliceTask, bobTask, bobSpare, carolTask;
  await step("everyone writes tasks they own (user role: write owner_id == %%user.id)", async () => {
    aliceTask = (await allowed("Alice inserts 'red: roadmap'", () =>
      tasks(alice).insertOne({ owner_id: alice.user.id, team: RED, title: "red: roadmap", status: "open" }))).insertedId;
    bobTask = (await allowed("Bob inserts 'red: bugfix'", () =>
      tasks(bob).insertOne({ owner_id: bob.user.id, team: RED, title: "red: bugfix", status: "open" }))).insertedId;
    bobSpare = (await allowed("Bob inserts 'red: spare'", () =>
      tasks(bob).insertOne({ owner_id: bob.user.id, team: RED, title: "red: spare", status: "open" }))).insertedId;
    carolTask = (await allowed("Carol inserts 'blue: design'", () =>
      tasks(carol).insertOne({ owner_id: carol.user.id, team: BLUE, title: "blue: design", status: "open" }))).insertedId;
    await refused("Bob inserts a task owned by Alice", () =>
      tasks(bob).insertOne({ owner_id: alice.user.id, team: RED, title: "red: forged", status: "open" }));
    await refused("Carol inserts a red task owned by Bob", () =>
      tasks(carol).insertOne({ owner_id: bob.user.id, team: RED, title: "red: forged", status: "open" }));
  });

  await step("team members read all of their team's tasks and nothing else", async () => {
    assert.deepEqual(await titles(alice), ["red: bugfix", "red: roadmap", "red: spare"]);
    assert.deepEqual(await titles(bob), ["red: bugfix", "red: roadmap", "red: spare"]);
    note("Alice and Bob see the three red tasks");
    assert.deepEqual(await titles(carol), ["blue: design"]);
    note("Carol sees the blue task only");
    assert.deepEqual(await titles(dave), []);
    note("Dave, on no team, sees nothing");
  });

  await step("a member writes only their own tasks", async () => {
    await allowed("Bob closes his 'red: bugfix'", () => tasks(bob).updateOne({ _id: bobTask }, { $set: { status: "done" } }));
    await refused("Bob edits Alice's 'red: roadmap'", () =>
      tasks(bob).updateOne({ _id: aliceTask }, { $set: { status: "done" } }));
    await refused("Bob takes 'red: roadmap' over (owner_id := Bob)", () =>
      tasks(bob).updateOne({ _id: aliceTask }, { $set: { owner_id: bob.user.id } }));
    await refused("Bob deletes Alice's 'red: roadmap'", () => tasks(bob).deleteOne({ _id: aliceTask }));
    await refused("Bob deletes every red task", () => tasks(bob).deleteMany({ team: RED }));
    assert.deepEqual(await stored(alice, aliceTask), { owner_id: alice.user.id, team: RED, title: "red: roadmap", status: "open" });
    assert.deepEqual(await titles(alice), ["red: bugfix", "red: roadmap", "red: spare"]);
    note("Alice's task is unchanged and all three red tasks remain");
  });

  await step("the team admin writes every task of her team, and only of her team", async () => {
    await allowed("Alice edits Bob's 'red: bugfix'", () =>
      tasks(alice).updateOne({ _id: bobTask }, { $set: { status: "verified" } }));
    await allowed("Alice reassigns Bob's 'red: bugfix' to herself", () =>
      tasks(alice).updateOne({ _id: bobTask }, { $set: { owner_id: alice.user.id } }));
    assert.deepEqual(await stored(bob, bobTask), { owner_id: alice.user.id, team: RED, title: "red: bugfix", status: "verified" });
    await allowed("Alice inserts a red task for Bob", () =>
      tasks(alice).insertOne({ owner_id: bob.user.id, team: RED, title: "red: review", status: "open" }));
    const del = await allowed("Alice deletes Bob's 'red: spare'", () => tasks(alice).deleteOne({ _id: bobSpare }));
    assert.equal(del.deletedCount, 1);
    await refused("Alice moves 'red: roadmap' to the blue team", () =>
      tasks(alice).updateOne({ _id: aliceTask }, { $set: { team: BLUE } }));
    await refused("Alice inserts a blue task", () =>
      tasks(alice).insertOne({ owner_id: alice.user.id, team: BLUE, title: "blue: intrusion", status: "open" }));
    const blue = await tasks(alice).updateOne({ _id: carolTask }, { $set: { status: "done" } });
    assert.equal(blue.matchedCount, 0);
    note("her update of Carol's blue task matches nothing");
    assert.deepEqual(await titles(bob), ["red: bugfix", "red: review", "red: roadmap"]);
    assert.deepEqual(await stored(carol, carolTask), { owner_id: carol.user.id, team: BLUE, title: "blue: design", status: "open" });
    assert.deepEqual(await titles(carol), ["blue: design"]);
    note("Bob sees the admin's changes; the blue team is untouched");
  });

  await step("Bob cannot write 'red: bugfix' any more: the admin made it hers", async () => {
    await refused("Bob edits 'red: bugfix'", () => tasks(bob).updateOne({ _id: bobTask }, { $set: { status: "reopened" } }));
    assert.equal((await stored(alice, bobTask)).status, "verified");
  });

  await step("revoking the admin flag: after her next refresh Alice is a plain member", async () => {
    await allowed("setTeamAdmin(alice, false)", () => admin.user.functions.setTeamAdmin(alice.user.id, false));
    assert.deepEqual(await refreshed(alice), { team: RED, isTeamAdmin: false });
    const review = await tasks(alice).findOne({ title: "red: review" });
    await refused("Alice edits Bob's 'red: review'", () =>
      tasks(alice).updateOne({ _id: review._id }, { $set: { status: "done" } }));
    assert.equal((await stored(bob, review._id)).status, "open");
    await allowed("Alice still edits her own 'red: roadmap'", () =>
      tasks(alice).updateOne({ _id: aliceTask }, { $set: { status: "in progress" } }));
  });

  await step("moving Bob to blue: he sees blue's tasks, and still his own red one", async () => {
    await allowed('joinTeam(bob, "blue")', () => admin.user.functions.joinTeam(bob.user.id, BLUE));
    assert.deepEqual(await refreshed(bob), { team: BLUE, isTeamAdmin: false });
    assert.deepEqual(await titles(bob), ["blue: design", "red: review"]);
    note("'red: review' is Bob's own (owner_id), and write access implies read access");
    await refused("Bob edits Carol's 'blue: design'", () =>
      tasks(bob).updateOne({ _id: carolTask }, { $set: { status: "done" } }));
    assert.deepEqual(await titles(carol), ["blue: design"]);
  });

  await step("the guide's user role checks only owner_id on writes", async () => {
    await allowed("Dave (no team) inserts a task he owns, labelled red", () =>
      tasks(dave).insertOne({ owner_id: dave.user.id, team: RED, title: "red: from dave", status: "open" }));
    assert.deepEqual(await titles(alice), ["red: bugfix", "red: from dave", "red: review", "red: roadmap"]);
    note("it appears in red's list; add {team: \"%%user.custom_data.team\"} to the user role's write filter to stop that");
  });
}

run(main);
