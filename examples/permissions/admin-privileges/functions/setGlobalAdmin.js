// Grants (true) or withdraws (false) administrator privileges by setting
// isGlobalAdmin in a user's custom user data document, found by the email
// onUserCreated stored there. It runs as system, because clients may never
// write custom user data, and its can_evaluate admits server API key users
// only, so no app user can promote anyone, themselves included.
exports = async function(email, isGlobalAdmin) {
  if (typeof email !== "string" || typeof isGlobalAdmin !== "boolean") {
    throw new Error("usage: setGlobalAdmin(email, true | false)");
  }
  const users = context.services.get("mongodb-atlas").db("Item").collection("User");
  const profile = await users.findOne({ email });
  if (profile === null) {
    throw new Error(`no custom user data for ${email}`);
  }
  await users.updateOne({ _id: profile._id }, { $set: { isGlobalAdmin } });
  return { email, isGlobalAdmin };
};
