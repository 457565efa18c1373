exports = async function() { return context.functions.execute("utils/add", 1, 2); };
