exports = async (input) => ({ month: input.month, average: 42 });
