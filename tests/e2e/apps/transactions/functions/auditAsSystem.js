// A system function (rules bypassed) writing two collections in one
// transaction, then failing a second one.
exports = async function (note) {
  const client = context.services.get("mongodb-atlas");
  const audit = client.db("bank").collection("audit");
  const session = client.startSession();
  await session.withTransaction(async () => {
    await audit.insertOne({ note, n: 1 }, { session });
    await audit.insertOne({ note, n: 2 }, { session });
  });
  try {
    await session.withTransaction(async () => {
      await audit.insertOne({ note, n: 3 }, { session });
      throw new Error("rolled back");
    });
  } catch (e) {
    // expected
  }
  session.endSession();
  return await audit.count({ note });
};
