exports = function(name) {
  return "Hello, " + name + "!";
};
