// startTransaction / commitTransaction / abortTransaction by hand.
exports = async function (from, to, amount, commit) {
  const client = context.services.get("mongodb-atlas");
  const accounts = client.db("bank").collection("accounts");
  const session = client.startSession();
  session.startTransaction();
  await accounts.updateOne({ _id: from }, { $inc: { balance: -amount } }, { session });
  await accounts.updateOne({ _id: to }, { $inc: { balance: amount } }, { session });
  if (commit) await session.commitTransaction();
  else await session.abortTransaction();
  session.endSession();
  return commit ? "committed" : "aborted";
};
