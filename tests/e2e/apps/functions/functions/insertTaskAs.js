// Runs with the caller's rules: the task tracker lets users insert only
// tasks assigned to themselves.
exports = async function (assignee, name) {
  const tasks = context.services.get("mongodb-atlas").db("tracker").collection("tasks");
  const res = await tasks.insertOne({ _partition: "My Project", name, status: "Open", assignee });
  return res.insertedId;
};
