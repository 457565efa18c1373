// The employees demo: four Dunder Mifflin employees sign in through the
// company's identity provider (a JWT this script signs, standing in for
// an HR single sign-on) and the demo checks, role by role, which employee
// documents and which fields each of them sees and may change.
//
//   Andy     sales manager: Manager of Phylis and Stanley, Employee of himself
//   Phylis   sales: Employee of herself, Teammate of Stanley and Andy
//   Stanley  sales: Employee of himself, Teammate of Phylis and Andy
//   Oscar    accounting: Employee of himself, no role for anyone in sales
//
// Every change the demo makes is undone before it ends, so it can run again
// on the same store (the users are the same people each time: the identity
// provider's `sub` claim is their employee id).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { sign } from "node:crypto";
import * as Realm from "realm-web";
import { allowed, appIdOr, baseUrl, note, refused, run, step } from "../../lib/demo.mjs";

const appId = appIdOr("employees-atoll");
const app = new Realm.App({ id: appId, baseUrl });

// The identity provider's signing key. The app holds only the public half
// (values/hrSigningKey.json); this private half is a demo key, published
// here on purpose. A real deployment keeps it inside the identity provider.
const privateKey = readFileSync(new URL("./hr-idp-private-key.pem", import.meta.url), "utf8");

const people = {
  phylis: { sub: "0528", name: "Phylis Lapin", team: "sales", email: "phylis.lapin@dundermifflin.com" },
  stanley: { sub: "0713", name: "Stanley Hudson", team: "sales", email: "stanley.hudson@dundermifflin.com" },
  andy: { sub: "0865", name: "Andy Bernard", team: "sales", email: "andy.bernard@dundermifflin.com" },
  oscar: { sub: "0942", name: "Oscar Martinez", team: "accounting", email: "oscar.martinez@dundermifflin.com" },
  toby: { sub: "1120", name: "Toby Flenderson", team: "hr", email: "toby.flenderson@dundermifflin.com" },
};

// The documents as demo/data/company.employees.json loads them.
const ids = {
  phylis: { $oid: "65f000000000000000000528" },
  stanley: { $oid: "65f000000000000000000713" },
  andy: { $oid: "65f000000000000000000865" },
  oscar: { $oid: "65f000000000000000000942" },
};
const stored = {
  phylis: { _id: "65f000000000000000000528", employeeId: "0528", name: "Phylis Lapin", team: "sales",
    email: "phylis.lapin@dundermifflin.com", manages: [], salary: 52000 },
  stanley: { _id: "65f000000000000000000713", employeeId: "0713", name: "Stanley Hudson", team: "sales",
    email: "stanley.hudson@dundermifflin.com", manages: [], salary: 55000 },
  andy: { _id: "65f000000000000000000865", employeeId: "0865", name: "Andy Bernard", team: "sales",
    email: "andy.bernard@dundermifflin.com",
    manages: ["phylis.lapin@dundermifflin.com", "stanley.hudson@dundermifflin.com"], salary: 61000 },
  oscar: { _id: "65f000000000000000000942", employeeId: "0942", name: "Oscar Martinez", team: "accounting",
    email: "oscar.martinez@dundermifflin.com", manages: [], salary: 58000 },
};

/** A JWT from the "HR identity provider", RS256-signed with the demo key. */
function hrToken(person, { key = privateKey, ttl = 600 } = {}) {
  const now = Math.floor(Date.now() / 1000);
  const enc = (o) => Buffer.from(JSON.stringify(o)).toString("base64url");
  const head = enc({ alg: "RS256", typ: "JWT" });
  const body = enc({ sub: person.sub, aud: appId, iat: now, exp: now + ttl,
    email: person.email, team: person.team, name: person.name });
  const sig = sign("RSA-SHA256", Buffer.from(`${head}.${body}`), key).toString("base64url");
  return `${head}.${body}.${sig}`;
}

/** Logs a person in with a fresh token from the identity provider. */
async function logIn(person) {
  return app.logIn(Realm.Credentials.jwt(hrToken(person)));
}

/** The employees collection as user sees it. */
function employeesOf(user) {
  return user.mongoClient("mongodb-atlas").db("company").collection("employees");
}

/** Plain JSON: ObjectIds become hex strings, so documents compare simply. */
function plain(v) {
  return JSON.parse(JSON.stringify(v));
}

/** A stored document without the fields a role hides. */
function without(doc, ...fields) {
  const out = { ...doc };
  for (const f of fields) delete out[f];
  return out;
}

async function main() {
  console.log(`employees demo against ${baseUrl} (app ${appId})`);
  const u = {};

  await step("Employees sign in through the HR identity provider (custom JWT)", async () => {
    for (const who of ["phylis", "stanley", "andy", "oscar"]) {
      u[who] = await allowed(`${people[who].name} logs in with a signed JWT`, () => logIn(people[who]));
      // user.data comes from the token's metadata fields: the Employee
      // role matches data.email, the Teammate role data.team.
      assert.equal(u[who].profile.email, people[who].email);
      assert.equal(u[who].profile.team, people[who].team);
    }
    // The user creation function linked each user to their employee
    // record: custom data says whom they manage (the Manager role).
    assert.deepEqual(u.andy.customData.manages, stored.andy.manages);
    assert.deepEqual(u.phylis.customData.manages, []);
    assert.equal(u.andy.customData.employeeId, "0865");
    note(`Andy's custom data: manages ${u.andy.customData.manages.join(", ")}`);
    await refused("Toby (HR, not in the employee directory) logs in: the user creation function turns him away",
      () => logIn(people.toby), /not in the employee directory/);
    const { generateKeyPairSync } = await import("node:crypto");
    const forger = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey;
    await refused("a token signed by another key (a forged Andy) is refused",
      () => app.logIn(Realm.Credentials.jwt(hrToken(people.andy, { key: forger }))), /invalid custom token/);
  });

  await step("Reads: each user sees exactly the documents their roles allow, and the fields", async () => {
    const sorted = { sort: { employeeId: 1 } };
    const phylisSees = plain(await allowed("Phylis lists employees", () => employeesOf(u.phylis).find({}, sorted)));
    // Employee of her own document (every field), Teammate of Stanley and
    // Andy (salary hidden), nothing of Oscar (other team, no role).
    assert.deepEqual(phylisSees, [stored.phylis, without(stored.stanley, "salary"), without(stored.andy, "salary")]);
    note("Phylis sees herself in full, Stanley and Andy without salary, not Oscar");

    const stanleySees = plain(await allowed("Stanley lists employees", () => employeesOf(u.stanley).find({}, sorted)));
    assert.deepEqual(stanleySees, [without(stored.phylis, "salary"), stored.stanley, without(stored.andy, "salary")]);

    const andySees = plain(await allowed("Andy lists employees", () => employeesOf(u.andy).find({}, sorted)));
    // Manager of his two reports (every field), Employee of himself.
    assert.deepEqual(andySees, [stored.phylis, stored.stanley, stored.andy]);
    note("Andy sees his reports and himself in full, not Oscar");

    const oscarSees = plain(await allowed("Oscar lists employees", () => employeesOf(u.oscar).find({}, sorted)));
    assert.deepEqual(oscarSees, [stored.oscar]);
    note("Oscar (accounting) sees only his own document");

    const none = await allowed("Oscar looks for Phylis by email", () =>
      employeesOf(u.oscar).findOne({ email: stored.phylis.email }));
    assert.equal(none, null);
    assert.equal(await employeesOf(u.oscar).count({ team: "sales" }), 0);
    assert.equal(await employeesOf(u.phylis).count({}), 3);
  });

  await step("Employee: Phylis may change her own name, not the fields HR owns", async () => {
    const mine = employeesOf(u.phylis);
    const res = await allowed("Phylis sets her own name", () =>
      mine.updateOne({ _id: ids.phylis }, { $set: { name: "Phyllis Vance" } }));
    assert.equal(res.matchedCount, 1);
    assert.equal(res.modifiedCount, 1);
    assert.equal((await mine.findOne({ _id: ids.phylis })).name, "Phyllis Vance");
    await allowed("Phylis puts her name back", () =>
      mine.updateOne({ _id: ids.phylis }, { $set: { name: stored.phylis.name } }));

    for (const [field, value] of [["salary", 90000], ["team", "accounting"], ["manages", [stored.stanley.email]], ["email", "phylis@example.com"]]) {
      await refused(`Phylis sets her own ${field} (read-only for the Employee role)`, () =>
        mine.updateOne({ _id: ids.phylis }, { $set: { [field]: value } }), /not permitted/);
    }
    await refused("Phylis deletes her own document (Employee: delete false)", () =>
      mine.deleteOne({ _id: ids.phylis }), /delete not permitted/);
    await refused("Phylis inserts a second document with her email (Employee: insert false)", () =>
      mine.insertOne({ employeeId: "0529", name: "Phylis Again", team: "sales", email: stored.phylis.email, manages: [] }),
    /insert not permitted/);
    assert.deepEqual(plain(await employeesOf(u.andy).findOne({ _id: ids.phylis })), stored.phylis);
    note("Phylis's document is unchanged");
  });

  await step("Teammate: Stanley may read Phylis's document but not change it", async () => {
    const his = employeesOf(u.stanley);
    await refused("Stanley renames Phylis", () =>
      his.updateOne({ _id: ids.phylis }, { $set: { name: "Phil" } }), /update not permitted/);
    await refused("Stanley removes Andy's salary (a field he cannot even see)", () =>
      his.updateOne({ _id: ids.andy }, { $unset: { salary: "" } }), /not permitted/);
    await refused("Stanley deletes Phylis", () => his.deleteOne({ _id: ids.phylis }), /delete not permitted/);
    await refused("Stanley asks which teammates earn over 50,000 (a hidden field in the filter)", () =>
      his.find({ salary: { $gt: 50000 } }));
    assert.deepEqual(plain(await employeesOf(u.andy).find({}, { sort: { employeeId: 1 } })),
      [stored.phylis, stored.stanley, stored.andy]);
    note("nothing changed");
  });

  await step("Manager: Andy may change (salaries too), delete and create his reports' documents", async () => {
    const his = employeesOf(u.andy);
    const moved = await allowed("Andy moves Stanley to the corporate team", () =>
      his.updateOne({ _id: ids.stanley }, { $set: { team: "corporate" } }));
    assert.equal(moved.modifiedCount, 1);
    // Roles are decided per document at request time: Stanley's document
    // no longer matches Phylis's team, so the Teammate role stops applying.
    assert.equal(await employeesOf(u.phylis).findOne({ _id: ids.stanley }), null);
    assert.equal((await his.findOne({ _id: ids.stanley })).team, "corporate");
    note("Phylis no longer sees Stanley; Andy, his manager, still does");
    await allowed("Andy moves Stanley back to sales", () =>
      his.updateOne({ _id: ids.stanley }, { $set: { team: "sales" } }));
    assert.deepEqual(plain(await employeesOf(u.phylis).findOne({ _id: ids.stanley })), without(stored.stanley, "salary"));

    const gone = await allowed("Andy deletes Stanley's document", () => his.deleteOne({ _id: ids.stanley }));
    assert.equal(gone.deletedCount, 1);
    assert.equal(await employeesOf(u.phylis).findOne({ _id: ids.stanley }), null);
    const back = await allowed("Andy creates it again (its email is one he manages)", () =>
      his.insertOne({ ...stored.stanley, _id: ids.stanley }));
    assert.equal(String(back.insertedId), stored.stanley._id);

    // Salary is hidden from teammates, not from managers: Andy gives his
    // reports a raise. Atoll decides the role of each document before
    // applying the update, so the Teammate role hiding salary elsewhere
    // does not stand in the way.
    const raise = await allowed("Andy gives Phylis a raise ($inc salary)", () =>
      his.updateOne({ _id: ids.phylis }, { $inc: { salary: 3000 } }));
    assert.equal(raise.matchedCount, 1);
    assert.equal(raise.modifiedCount, 1);
    assert.equal((await his.findOne({ _id: ids.phylis })).salary, stored.phylis.salary + 3000);
    assert.equal((await employeesOf(u.phylis).findOne({ _id: ids.phylis })).salary, stored.phylis.salary + 3000);
    assert.equal((await employeesOf(u.stanley).findOne({ _id: ids.phylis })).salary, undefined);
    note("Phylis sees her new salary; Stanley, her teammate, still sees none");
    const both = await allowed("Andy raises both of his reports at once (updateMany)", () =>
      his.updateMany({ email: { $in: stored.andy.manages } }, { $inc: { salary: 1000 } }));
    assert.equal(both.modifiedCount, 2);
    await refused("Andy raises the whole sales team, himself included (his own salary is read-only): nothing changes", () =>
      his.updateMany({ team: "sales" }, { $inc: { salary: 1000 } }), /update not permitted/);
    assert.equal((await his.findOne({ _id: ids.stanley })).salary, stored.stanley.salary + 1000);
    await allowed("Andy puts Phylis's salary back", () =>
      his.updateOne({ _id: ids.phylis }, { $set: { salary: stored.phylis.salary } }));
    await allowed("Andy puts Stanley's salary back", () =>
      his.updateOne({ _id: ids.stanley }, { $set: { salary: stored.stanley.salary } }));
    const right = await refused("Stanley sets Phylis's salary to what it is (a field he cannot see)", () =>
      employeesOf(u.stanley).updateOne({ _id: ids.phylis }, { $set: { salary: stored.phylis.salary } }), /update not permitted/);
    const wrong = await refused("Stanley sets it to a wrong guess: the same answer, so the refusal tells him nothing", () =>
      employeesOf(u.stanley).updateOne({ _id: ids.phylis }, { $set: { salary: 1 } }), /update not permitted/);
    assert.equal(wrong.message, right.message);
    assert.deepEqual(plain(await his.find({}, { sort: { employeeId: 1 } })), [stored.phylis, stored.stanley, stored.andy]);

    await refused("Andy creates a document for a new hire he does not manage", () =>
      his.insertOne({ employeeId: "1001", name: "Ryan Howard", team: "sales", email: "ryan.howard@dundermifflin.com", manages: [] }),
    /insert not permitted/);
    await refused("Andy gives himself a raise (his own document: Employee role)", () =>
      his.updateOne({ _id: ids.andy }, { $inc: { salary: 5000 } }), /not permitted/);
    await refused("Andy adds Oscar to his own manages list", () =>
      his.updateOne({ _id: ids.andy }, { $push: { manages: stored.oscar.email } }), /update not permitted/);
    const other = await allowed("Andy updates Oscar (no role: matches nothing, no error)", () =>
      his.updateOne({ _id: ids.oscar }, { $set: { name: "Oscar M." } }));
    assert.equal(other.matchedCount, 0);
    const notDeleted = await allowed("Andy deletes Oscar (matches nothing)", () => his.deleteOne({ _id: ids.oscar }));
    assert.equal(notDeleted.deletedCount, 0);
    assert.deepEqual(plain(await employeesOf(u.oscar).findOne({ _id: ids.oscar })), stored.oscar);
    assert.deepEqual(plain(await his.find({}, { sort: { employeeId: 1 } })), [stored.phylis, stored.stanley, stored.andy]);
    note("every document is back as it was; Oscar's was never touched");
  });

  await step("No role: Oscar cannot touch the sales team's documents", async () => {
    const his = employeesOf(u.oscar);
    const upd = await allowed("Oscar renames everyone in sales (matches nothing)", () =>
      his.updateMany({ team: "sales" }, { $set: { name: "Kevin" } }));
    assert.equal(upd.matchedCount, 0);
    const del = await allowed("Oscar deletes everyone in sales (matches nothing)", () => his.deleteMany({ team: "sales" }));
    assert.equal(del.deletedCount, 0);
    await refused("Oscar moves himself to sales (team is read-only for the Employee role)", () =>
      his.updateMany({}, { $set: { team: "sales" } }), /update not permitted/);
    assert.deepEqual(plain(await employeesOf(u.andy).find({}, { sort: { employeeId: 1 } })),
      [stored.phylis, stored.stanley, stored.andy]);
    assert.deepEqual(plain(await his.find({})), [stored.oscar]);
    note("the sales team's documents and Oscar's own are unchanged");
  });

  await step("The rest of the company's data is closed: custom data cannot be written by clients", async () => {
    const users = u.phylis.mongoClient("mongodb-atlas").db("company").collection("users");
    await refused("Phylis edits her own custom data to manage Stanley", () =>
      users.updateOne({ user_id: u.phylis.id }, { $set: { manages: [stored.stanley.email] } }));
    await u.phylis.refreshCustomData();
    assert.deepEqual(u.phylis.customData.manages, []);
  });

  for (const who of Object.keys(u)) await u[who].logOut();
}

run(main);
