// Credits the caller's account, then writes another user's account, which
// the rules deny: the denial aborts the transaction, so the credit cannot
// be committed by ignoring the error.
exports = async function (mine, theirs) {
  const client = context.services.get("mongodb-atlas");
  const accounts = client.db("bank").collection("accounts");
  const session = client.startSession();
  session.startTransaction();
  await accounts.updateOne({ _id: mine }, { $inc: { balance: 1000 } }, { session });
  let denied = "";
  try {
    await accounts.deleteOne({ _id: theirs }, { session });
    const r = await accounts.updateOne({ _id: theirs }, { $set: { balance: 0 } }, { session });
    denied = "matched " + r.matchedCount;
  } catch (e) {
    denied = e.message;
  }
  let commit = "committed";
  try {
    await session.commitTransaction();
  } catch (e) {
    commit = e.message;
  }
  session.endSession();
  return { denied, commit };
};
