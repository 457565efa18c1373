// One findOne as the calling user (rules applied): the fn-findone scenario,
// compared with the same findOne through the client API (findone).
exports = async function () {
  const items = context.services.get("mongodb-atlas").db("bench").collection("items");
  return await items.findOne({ owner_id: context.user.id });
};
