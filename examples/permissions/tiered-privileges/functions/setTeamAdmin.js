// Grants or revokes the team administrator role of an existing user. Not
// part of the guide, which leaves setting isTeamAdmin to the operator: it
// runs as system, and its can_evaluate lets only server API key users
// (administrators) call it.
exports = async function(userId, isTeamAdmin) {
  if (typeof userId !== "string" || typeof isTeamAdmin !== "boolean") {
    throw new Error("setTeamAdmin(userId: string, isTeamAdmin: boolean)");
  }
  const users = context.services.get("mongodb-atlas").db("Item").collection("User");
  return users.updateOne({ _id: userId }, { $set: { isTeamAdmin } }, { upsert: false });
};
