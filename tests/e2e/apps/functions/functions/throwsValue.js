exports = function () {
  throw { reason: "not an Error" };
};
