exports = function(authEvent) {
  const user = authEvent.user;
  const collection = context.services.get("mongodb-atlas").db("Item").collection("User");
  const newDoc = {
    _id: user.id,
    email: user.data.email, // Useful for looking up user IDs by email later - assuming email/password auth is used
    team: "", // Used for tiered privileges
    isTeamAdmin: false, // Used for tiered privileges
    isGlobalAdmin: false, // Used for admin privileges
    subscribedTo: [], // Used for restricted feed
  };
  return collection.insertOne(newDoc);
};
