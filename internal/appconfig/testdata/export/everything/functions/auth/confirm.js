exports = ({ username }) => ({ status: "success" });
