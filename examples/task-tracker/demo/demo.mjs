// The task tracker, driven by the unmodified realm-web SDK: two people
// register, the onNewUser trigger gives each a tracker.users document (which
// is also their custom user data), they create, assign, update and delete
// tasks, and every operation the isAssignee/default roles, the schemas or the
// read-only users collection forbid is shown to be refused with the data left
// as it was. Run it against a server serving examples/task-tracker.
import * as Realm from "realm-web";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";

import { allowed, appIdOr, baseUrl, note, password, refused, run, step, uniqueEmail } from "../../lib/demo.mjs";

const app = new Realm.App({ id: appIdOr("tasktracker-atoll"), baseUrl });
// Every task of this run lives in its own project (partition), so a rerun
// on the same store reads back exactly the tasks it made.
const project = `Demo project ${randomBytes(3).toString("hex")}`;

function tasksOf(user) {
  return user.mongoClient("mongodb-atlas").db("tracker").collection("tasks");
}

function usersOf(user) {
  return user.mongoClient("mongodb-atlas").db("tracker").collection("users");
}

/** Polls until fn returns a truthy value, for at most ms: triggers run asynchronously. */
async function eventually(what, fn, ms = 20000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** customData comes straight from the access token, so a Date is relaxed Extended JSON there. */
function dateOf(v) {
  assert.ok(v && typeof v.$date === "string", `expected an Extended JSON date, got ${JSON.stringify(v)}`);
  return new Date(v.$date);
}

/** The project's tasks as user sees them, by name, with _id as a hex string. */
async function projectTasks(user) {
  const docs = await tasksOf(user).find({ _partition: project }, { sort: { name: 1 } });
  return docs.map((d) => ({ ...d, _id: d._id.toHexString() }));
}

async function main() {
  console.log(`task tracker demo against ${baseUrl}, app ${app.id}, project "${project}"`);

  const people = {};
  await step("Alice and Bob register with email/password (confirmed automatically) and log in", async () => {
    for (const name of ["alice", "bob"]) {
      const email = uniqueEmail(name);
      await allowed(`register ${email}`, () => app.emailPasswordAuth.registerUser({ email, password }));
      const user = await allowed(`log in as ${email}`, () =>
        app.logIn(Realm.Credentials.emailPassword(email, password)),
      );
      people[name] = { email, user };
    }
  });
  const { alice, bob } = people;

  await step("The onNewUser trigger runs createNewUserDocument: each user gets a tracker.users document", async () => {
    for (const p of [alice, bob]) {
      const doc = await eventually(`${p.email}'s users document`, () => usersOf(p.user).findOne({ user_id: p.user.id }));
      assert.ok(doc._id instanceof Realm.BSON.ObjectId, "the trigger's insertOne adds an ObjectId _id");
      assert.deepEqual(
        { _partition: doc._partition, user_id: doc.user_id, name: doc.name },
        { _partition: "My Project", user_id: p.user.id, name: p.email },
      );
      p.doc = doc;
      note(`${p.email}: ${JSON.stringify({ _partition: doc._partition, user_id: doc.user_id, name: doc.name })}`);
    }
  });

  await step("Custom user data: the users document, stamped with lastLogin by the onLogin trigger", async () => {
    for (const p of [alice, bob]) {
      // The login's token was made before the triggers ran; refreshing
      // the access token reads the document again.
      const data = await eventually(`${p.email}'s lastLogin`, async () => {
        const d = await p.user.refreshCustomData();
        return d.lastLogin ? d : null;
      });
      assert.equal(data.user_id, p.user.id);
      assert.equal(data.name, p.email);
      assert.deepEqual(p.user.customData, data);
      p.firstLogin = dateOf(data.lastLogin);
      note(`${p.email}: customData.lastLogin = ${p.firstLogin.toISOString()}`);
    }
  });

  const ids = {};
  await step("Each creates tasks assigned to themselves (role isAssignee: insert allowed)", async () => {
    for (const [who, name] of [
      [alice, "Write the quarterly report"],
      [alice, "Book the team offsite"],
      [bob, "Fix the login bug"],
    ]) {
      const res = await allowed(`${who.email} inserts "${name}"`, () =>
        tasksOf(who.user).insertOne({ _partition: project, name, status: "Open", assignee: who.user.id }),
      );
      ids[name] = res.insertedId;
    }
  });

  await step("Nobody may create a task for someone else, or an unassigned one (role default: insert false)", async () => {
    await refused(
      "Alice inserts a task assigned to Bob",
      () => tasksOf(alice.user).insertOne({ _partition: project, name: "Bob's chores", status: "Open", assignee: bob.user.id }),
      /insert not permitted/,
    );
    await refused(
      "Alice inserts a task with no assignee",
      () => tasksOf(alice.user).insertOne({ _partition: project, name: "Somebody's task", status: "Open" }),
      /insert not permitted/,
    );
    assert.equal(await tasksOf(alice.user).count({ _partition: project }), 3, "no task was added");
  });

  const expected = () => [
    { _id: ids["Book the team offsite"].toHexString(), _partition: project, name: "Book the team offsite", status: "Open", assignee: alice.user.id },
    { _id: ids["Fix the login bug"].toHexString(), _partition: project, name: "Fix the login bug", status: "Open", assignee: bob.user.id },
    { _id: ids["Write the quarterly report"].toHexString(), _partition: project, name: "Write the quarterly report", status: "Open", assignee: alice.user.id },
  ];
  await step("Everyone reads every task, all fields (both roles read all fields)", async () => {
    for (const p of [alice, bob]) {
      const got = await allowed(`${p.email} finds the project's tasks`, () => projectTasks(p.user));
      assert.deepEqual(got, expected());
      note(`${p.email} sees ${got.map((t) => `"${t.name}"`).join(", ")}`);
    }
  });

  await step("Updates: only the assignee may write a task", async () => {
    const report = ids["Write the quarterly report"];
    const bug = ids["Fix the login bug"];
    const res = await allowed("Alice moves her report to In Progress", () =>
      tasksOf(alice.user).updateOne({ _id: report }, { $set: { status: "In Progress" } }),
    );
    assert.equal(res.modifiedCount, 1);
    await refused(
      "Alice closes Bob's task",
      () => tasksOf(alice.user).updateOne({ _id: bug }, { $set: { status: "Closed" } }),
      /update not permitted/,
    );
    await refused(
      "Bob renames Alice's report",
      () => tasksOf(bob.user).updateOne({ _id: report }, { $set: { name: "Bob was here" } }),
      /update not permitted/,
    );
    await refused(
      "Alice closes every task of the project with updateMany (one of them is Bob's)",
      () => tasksOf(alice.user).updateMany({ _partition: project }, { $set: { status: "Closed" } }),
      /update not permitted/,
    );
    const want = expected();
    want[2].status = "In Progress";
    assert.deepEqual(await projectTasks(bob.user), want, "only Alice's own update took effect");
  });

  await step("Assigning: Alice hands the offsite task to Bob; from then on it is Bob's to change", async () => {
    const offsite = ids["Book the team offsite"];
    await allowed("Alice sets the offsite task's assignee to Bob", () =>
      tasksOf(alice.user).updateOne({ _id: offsite }, { $set: { assignee: bob.user.id } }),
    );
    await refused(
      "Alice, no longer the assignee, changes its status",
      () => tasksOf(alice.user).updateOne({ _id: offsite }, { $set: { status: "Closed" } }),
      /update not permitted/,
    );
    await allowed("Bob, the new assignee, moves it to In Progress", () =>
      tasksOf(bob.user).updateOne({ _id: offsite }, { $set: { status: "In Progress" } }),
    );
    const doc = await tasksOf(alice.user).findOne({ _id: offsite });
    assert.equal(doc.assignee, bob.user.id);
    assert.equal(doc.status, "In Progress");
  });

  await step("Deletes: only the assignee may delete a task", async () => {
    const bug = ids["Fix the login bug"];
    await refused("Alice deletes Bob's bug task", () => tasksOf(alice.user).deleteOne({ _id: bug }), /delete not permitted/);
    assert.ok(await tasksOf(bob.user).findOne({ _id: bug }), "Bob's task is still there");
    const res = await allowed("Bob deletes his bug task", () => tasksOf(bob.user).deleteOne({ _id: bug }));
    assert.equal(res.deletedCount, 1);
    assert.equal(await tasksOf(alice.user).findOne({ _id: bug }), null);
  });

  await step("The Task schema: name and status are required strings", async () => {
    const attempts = [
      ["Alice inserts her own task without a status", () =>
        tasksOf(alice.user).insertOne({ _partition: project, name: "No status", assignee: alice.user.id })],
      ["Alice inserts her own task whose status is a number", () =>
        tasksOf(alice.user).insertOne({ _partition: project, name: "Numeric status", status: 3, assignee: alice.user.id })],
      ["Alice sets her report's status to a number", () =>
        tasksOf(alice.user).updateOne({ _id: ids["Write the quarterly report"] }, { $set: { status: 42 } })],
    ];
    for (const [what, fn] of attempts) {
      const err = await refused(what, fn, /could not validate document/);
      assert.equal(err.errorCode, "SchemaValidationFailedWrite");
    }
    const got = await projectTasks(alice.user);
    assert.deepEqual(
      got.map((t) => [t.name, t.status]),
      [
        ["Book the team offsite", "In Progress"],
        ["Write the quarterly report", "In Progress"],
      ],
      "nothing invalid was stored",
    );
  });

  await step("tracker.users is read-only for clients, including one's own custom user data", async () => {
    const users = usersOf(alice.user);
    const both = await allowed("Alice reads both users' documents", () =>
      users.find({ user_id: { $in: [alice.user.id, bob.user.id] } }, { sort: { name: 1 } }),
    );
    assert.deepEqual(
      both.map((d) => d.user_id).sort(),
      [alice.user.id, bob.user.id].sort(),
    );
    for (const d of both) {
      assert.deepEqual(Object.keys(d).sort(), ["_id", "_partition", "lastLogin", "name", "user_id"], "every field is readable");
      assert.ok(d.lastLogin instanceof Date, "read through the SDK, lastLogin is a Date");
    }
    const before = await users.findOne({ user_id: alice.user.id });
    await refused(
      "Alice inserts a second users document for herself",
      () => users.insertOne({ _partition: "My Project", user_id: alice.user.id, name: "Alice again" }),
      /insert not permitted/,
    );
    await refused(
      "Alice renames herself in her users document",
      () => users.updateOne({ user_id: alice.user.id }, { $set: { name: "Queen Alice" } }),
      /update not permitted/,
    );
    await refused(
      "Alice backdates her own custom data's lastLogin",
      () => users.updateOne({ user_id: alice.user.id }, { $set: { lastLogin: new Date(0) } }),
      /update not permitted/,
    );
    await refused("Alice deletes Bob's users document", () => users.deleteOne({ user_id: bob.user.id }), /delete not permitted/);
    assert.deepEqual(await users.findOne({ user_id: alice.user.id }), before, "her document is unchanged");
    assert.equal(await users.count({ user_id: { $in: [alice.user.id, bob.user.id] } }), 2);
    const data = await alice.user.refreshCustomData();
    assert.equal(data.name, alice.email);
    assert.equal(dateOf(data.lastLogin).getTime(), alice.firstLogin.getTime());
  });

  await step("The assignee relationship (tasks.assignee -> users.user_id), followed with $lookup", async () => {
    // relationships.json drives GraphQL in App Services, which Atoll does
    // not serve; the same join is an aggregation any client can run, with
    // the users collection's rules applied to the joined documents.
    const rows = await allowed("Bob joins each task of the project to its assignee", () =>
      tasksOf(bob.user).aggregate([
        { $match: { _partition: project } },
        { $lookup: { from: "users", localField: "assignee", foreignField: "user_id", as: "assigneeUser" } },
        { $sort: { name: 1 } },
        { $project: { _id: 0, name: 1, assigneeName: { $first: "$assigneeUser.name" } } },
      ]),
    );
    assert.deepEqual(rows, [
      { name: "Book the team offsite", assigneeName: bob.email },
      { name: "Write the quarterly report", assigneeName: alice.email },
    ]);
    for (const r of rows) note(`"${r.name}" is assigned to ${r.assigneeName}`);
  });

  await step("Logging in again: the onLogin trigger moves lastLogin; refreshCustomData() shows it", async () => {
    await new Promise((r) => setTimeout(r, 20)); // so the two stamps differ even on a coarse clock
    const again = await allowed(`Alice logs in again`, () =>
      app.logIn(Realm.Credentials.emailPassword(alice.email, password)),
    );
    assert.equal(again.id, alice.user.id);
    const data = await eventually("a newer lastLogin", async () => {
      const d = await again.refreshCustomData();
      return dateOf(d.lastLogin) > alice.firstLogin ? d : null;
    });
    note(`customData.lastLogin: ${alice.firstLogin.toISOString()} -> ${dateOf(data.lastLogin).toISOString()}`);
    assert.deepEqual(again.customData, data);
  });

  await step("Password resets run resetFunc, which refuses every request", async () => {
    await refused(
      "Alice asks for a password reset through the reset function",
      () => app.emailPasswordAuth.callResetPasswordFunction({ email: alice.email, password: "a-new-password" }),
      /failed to reset password/,
    );
    await allowed("Alice still logs in with her old password", () =>
      app.logIn(Realm.Credentials.emailPassword(alice.email, password)),
    );
  });
}

run(main);
