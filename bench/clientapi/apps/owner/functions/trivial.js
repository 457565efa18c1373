exports = function (x) {
  return x;
};
