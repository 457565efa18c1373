exports = (id) => id.startsWith("clerk");
