// Runs on every email/password login (the onLogin trigger) and stamps the
// user's tracker.users document, which is also their custom user data,
// with the time of this login. A user whose document the onNewUser
// trigger has not written yet is left alone: there is nothing to stamp.
exports = async function recordLogin(authEvent) {
  const users = context.services.get("mongodb-atlas").db("tracker").collection("users");
  return await users.updateOne(
    { user_id: authEvent.user.id },
    { $set: { lastLogin: new Date() } },
  );
};
