exports = async function(userId, teamName) {
  const collection = context.services.get("mongodb-atlas").db("Item").collection("User");
  return collection.updateOne({ _id: userId }, { $set: { team: teamName } }, { upsert: false });
};
