exports = async function(email) {
  const collection = context.services.get("mongodb-atlas").db("Item").collection("User");
  const author = await collection.findOne({email});
  if (author == null) {
    return {error: `Author ${email} not found`};
  }
  const subscriber = context.user;
  try {
    return await collection.updateOne(
      {_id: subscriber.id},
      {$addToSet: {subscribedTo: author._id}});
  } catch (error) {
    return {error: error.toString()};
  }
};
