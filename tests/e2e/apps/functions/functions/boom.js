exports = function () {
  throw new Error("boom: something went wrong");
};
