// Two accounts for the calling user, inserted as that user (rules apply).
exports = async function () {
  const accounts = context.services.get("mongodb-atlas").db("bank").collection("accounts");
  const me = context.user.id;
  await accounts.insertMany([
    { _id: me + "-checking", owner_id: me, balance: 100 },
    { _id: me + "-savings", owner_id: me, balance: 0 },
  ]);
  return [me + "-checking", me + "-savings"];
};
