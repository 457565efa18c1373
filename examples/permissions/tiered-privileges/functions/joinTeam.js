exports = async function(userId, teamName) {
  const collection = context.services.get("mongodb-atlas")
  .db("Item").collection("User");
  const filter = { _id: userId };
  const update = { $set: { team: teamName }};
  const options = { upsert: false };
  return collection.updateOne(filter, update, options);
};
