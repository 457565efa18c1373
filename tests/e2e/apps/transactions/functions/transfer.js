// Moves amount between two accounts atomically, the way App Services'
// transactions page does it: withTransaction, { session } on every
// operation, abortTransaction in the catch block, endSession at the end.
exports = async function (from, to, amount) {
  const client = context.services.get("mongodb-atlas");
  const accounts = client.db("bank").collection("accounts");
  const session = client.startSession();
  try {
    await session.withTransaction(async () => {
      await accounts.updateOne({ _id: to }, { $inc: { balance: amount } }, { session });
      const src = await accounts.findOneAndUpdate(
        { _id: from }, { $inc: { balance: -amount } }, { session, returnNewDocument: true });
      if (!src) throw new Error("no account " + from);
      if (src.balance < 0) throw new Error("insufficient funds");
    }, { readPreference: "primary", readConcern: { level: "local" }, writeConcern: { w: "majority" } });
  } catch (err) {
    await session.abortTransaction();
    throw err;
  } finally {
    await session.endSession();
  }
  return "done";
};
