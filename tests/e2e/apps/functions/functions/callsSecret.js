exports = async function () {
  return context.functions.execute("utils/secret");
};
