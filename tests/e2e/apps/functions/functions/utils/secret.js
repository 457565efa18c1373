exports = function () {
  return "only for other functions";
};
