// The user creation function (auth/custom_user_data.json): it runs, as
// system, once for each new user, before the user is stored. It finds the
// employee whose email the identity provider vouched for and writes the
// user's custom data document: who the employee manages. The Manager role
// reads that list as %%user.custom_data.manages. Someone with no employee
// record is turned away, since throwing here cancels the user's creation.
exports = async function (user) {
  const email = user.data && user.data.email;
  if (!email) {
    throw new Error("the identity provider sent no email");
  }
  const db = context.services.get("mongodb-atlas").db("company");
  const employee = await db.collection("employees").findOne({ email });
  if (!employee) {
    throw new Error(`${email} is not in the employee directory`);
  }
  await db.collection("users").insertOne({
    user_id: user.id,
    employeeId: employee.employeeId,
    email,
    manages: employee.manages || [],
  });
};
