exports = async function(email) {
  const collection = context.services.get("mongodb-atlas").db("Item").collection("User");
  const result = await collection.findOne({ email });
  return result != null ? result._id : null;
};
